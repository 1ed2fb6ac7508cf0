import { mkdtemp, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isTwinvaultError } from '../../src/errors.js';
import { kindOfKey } from '../../src/repository/layout.js';
import { ManifestCache } from '../../src/repository/manifest-cache.js';
import { restore } from '../../src/restore/restore.js';
import { forget } from '../../src/retention/forget.js';
import { parseKeepWithin } from '../../src/retention/keep-within.js';
import type { RetentionPolicy } from '../../src/retention/policy.js';
import { prune } from '../../src/retention/prune.js';
import { verifyRepository } from '../../src/verify/verify.js';
import { describeTree } from '../tree.js';
import { type Recorded, SOURCES, type SourceName, type World } from './world.js';

/**
 * What a chaos run does to a damaged repository, each with the promise it must keep. A broken
 * promise throws a ChaosViolation naming the seed's story so far; errors the tool reports
 * (TwinvaultErrors) are allowed wherever refusing is a safe answer, anything else is a bug.
 */
export class ChaosViolation extends Error {}

export type Operation = (world: World, story: string[]) => Promise<void>;

function mustBeReported(err: unknown, what: string): void {
  if (!isTwinvaultError(err) || err.code === 'INTERNAL')
    throw new ChaosViolation(
      `${what} failed with an error that is not reported as one: ${(err as Error).stack}`,
    );
}

const manifestKeys = async (world: World) => (await world.keys('.twinvault/snapshots/')).sort();
const contentKeys = async (world: World) =>
  (await world.keys()).filter((key) => kindOfKey(key) === 'content').sort();

/** The snapshots still in the repository that the test wrote and nothing damaged. */
async function intactPresent(world: World): Promise<Recorded[]> {
  const keys = new Set(await manifestKeys(world));
  return [...world.recorded.values()].filter((r) => keys.has(r.key) && world.isIntact(r));
}

async function restoreInto(world: World, snapshot: Recorded) {
  const target = await mkdtemp(join(world.dir, 'restore-'));
  const summary = await restore({
    repository: world.repository,
    snapshot: snapshot.ref,
    target,
    clock: world.clock,
  });
  return { tree: await describeTree(target), summary };
}

/** Every intact snapshot still present restores exactly what it held (nothing it needs was lost). */
export async function checkIntactRestore(world: World): Promise<void> {
  for (const snapshot of await intactPresent(world)) {
    let tree: Record<string, unknown>;
    try {
      ({ tree } = await restoreInto(world, snapshot));
    } catch (err) {
      throw new ChaosViolation(
        `intact snapshot ${snapshot.key} no longer restores: ${(err as Error).message}`,
      );
    }
    if (JSON.stringify(tree) !== JSON.stringify(snapshot.tree))
      throw new ChaosViolation(`intact snapshot ${snapshot.key} restores something else than it held`);
  }
}

/** Objects the newest recorded snapshot references that the store does not hold. */
async function goneObjects(world: World): Promise<string[]> {
  const listed = new Set(await world.keys());
  const made = [...world.recorded.values()].at(-1)!;
  return [...made.objects].filter((key) => !listed.has(key));
}

/** A backup: of the agent's kind (one source) or a user's (both); sometimes with a source gone. */
export const backupOp: Operation = async (world, story) => {
  const sources: SourceName[] = world.random.chance(0.5) ? [...SOURCES] : [world.random.pick(SOURCES)];
  for (const source of sources) await world.mutate(source, world.random.int(4));
  const gone = world.random.chance(0.15) ? world.random.pick(sources) : undefined;
  const before = await manifestKeys(world);
  if (gone) await rename(world.sourcePath(gone), `${world.sourcePath(gone)}.away`);
  try {
    const summary = await world.backup(sources);
    if (gone) throw new ChaosViolation(`a backup with ${gone} missing wrote snapshot ${summary.stamp}`);
    story.push(`backup of ${sources.join('+')} -> ${summary.stamp}`);
    // Objects gone from the store may be carried over until the periodic check of what is
    // stored runs; a backup that runs the check must upload those files again.
    if ((await goneObjects(world)).length > 0) {
      const checked = await world.backup(sources, { checkStoredEveryMs: 0 });
      story.push(`backup of ${sources.join('+')} checking what is stored -> ${checked.stamp}`);
      const gone = await goneObjects(world);
      if (gone.length > 0)
        throw new ChaosViolation(
          `backup ${checked.stamp} references objects that are gone: ${gone.join(', ')}`,
        );
    }
  } catch (err) {
    if (err instanceof ChaosViolation) throw err;
    mustBeReported(err, `backup of ${sources.join('+')}${gone ? ` (${gone} missing)` : ''}`);
    // Damage elsewhere in the repository must never stop new backups of sources that are there.
    if (!gone)
      throw new ChaosViolation(`a backup with every source present failed: ${(err as Error).message}`);
    story.push(`backup of ${sources.join('+')} refused: ${(err as Error).message}`);
    if (JSON.stringify(await manifestKeys(world)) !== JSON.stringify(before))
      throw new ChaosViolation('a failed backup changed the snapshots');
  } finally {
    if (gone) await rename(`${world.sourcePath(gone)}.away`, world.sourcePath(gone));
  }
};

/**
 * The newest snapshot holding each source whose manifest reads, not dated in the future: what
 * retention must keep. (Damaged content objects do not count here: forget reads manifests, not
 * content; verify --read-data finds those, and repair mends them.)
 */
async function newestReadablePerSource(world: World): Promise<Map<SourceName, Recorded>> {
  const now = world.clock.now().getTime();
  const keys = new Set(await manifestKeys(world));
  const newest = new Map<SourceName, Recorded>();
  for (const snapshot of world.recorded.values()) {
    if (!keys.has(snapshot.key) || world.damagedKeys.has(snapshot.key) || snapshot.time.getTime() > now)
      continue;
    for (const source of snapshot.sources) {
      const held = newest.get(source);
      if (!held || held.time < snapshot.time) newest.set(source, snapshot);
    }
  }
  return newest;
}

function randomPolicy(world: World): RetentionPolicy {
  const count = 1 + world.random.int(3);
  return world.random.pick<RetentionPolicy>([
    { last: count },
    { daily: count },
    { within: parseKeepWithin(`${1 + world.random.int(20)}d`) },
  ]);
}

/** forget (and often prune): never the newest readable snapshot of a source, never what it needs. */
export const forgetOp: Operation = async (world, story) => {
  const policy = randomPolicy(world);
  const mustStay = await newestReadablePerSource(world);
  const before = await manifestKeys(world);
  const cache = ManifestCache.forRepository(world.stateFolder, world.repository.config.id);
  try {
    const result = await forget({
      backend: world.backend,
      cache,
      policy,
      clock: world.clock,
      lockWaitMs: 3_600_000,
    });
    story.push(`forget ${JSON.stringify(policy)}: removed ${result.removed}`);
  } catch (err) {
    mustBeReported(err, 'forget');
    story.push(`forget refused: ${(err as Error).message}`);
    if (JSON.stringify(await manifestKeys(world)) !== JSON.stringify(before))
      throw new ChaosViolation('a forget that failed removed snapshots');
    return;
  }
  const after = new Set(await manifestKeys(world));
  for (const [source, snapshot] of mustStay) {
    if (!after.has(snapshot.key))
      throw new ChaosViolation(`forget removed ${snapshot.key}, the newest readable snapshot of ${source}`);
  }
  if (world.random.chance(0.7)) await pruneOp(world, story);
};

export const pruneOp: Operation = async (world, story) => {
  const before = await contentKeys(world);
  try {
    const result = await prune({ backend: world.backend, clock: world.clock, lockWaitMs: 3_600_000 });
    story.push(`prune: deleted ${result.deleted.objects}`);
  } catch (err) {
    mustBeReported(err, 'prune');
    story.push(`prune refused: ${(err as Error).message}`);
    if (JSON.stringify(await contentKeys(world)) !== JSON.stringify(before))
      throw new ChaosViolation('a prune that failed deleted objects');
  }
};

/** verify --read-data names every damage a listed snapshot suffers, and nothing when there is none. */
export const verifyOp: Operation = async (world, story) => {
  let problems: Array<{ key: string; message: string }>;
  try {
    problems = (await verifyRepository(world.backend, { readData: { kind: 'all' } })).problems;
  } catch (err) {
    mustBeReported(err, 'verify');
    story.push(`verify failed: ${(err as Error).message}`);
    return;
  }
  story.push(`verify: ${problems.length} problems`);
  const present = new Set(await world.keys());
  const named = (key: string) => problems.some((p) => p.key === key || p.message.includes(key));
  let damageExpected = false;
  for (const key of await manifestKeys(world)) {
    const snapshot = world.recorded.get(key);
    if (world.damagedKeys.has(key)) {
      damageExpected = true;
      if (!named(key)) throw new ChaosViolation(`verify did not report the damaged manifest ${key}`);
      continue;
    }
    if (!snapshot) continue;
    for (const object of snapshot.objects) {
      if (!world.damagedKeys.has(object)) continue;
      damageExpected = true;
      if (!named(object))
        throw new ChaosViolation(
          `verify did not report ${object} (${present.has(object) ? 'damaged' : 'missing'}), needed by ${key}`,
        );
    }
  }
  if (!damageExpected && problems.length > 0)
    throw new ChaosViolation(`verify reported problems in an undamaged repository: ${problems[0]!.message}`);
};

/** Restoring a damaged snapshot is reported, never a silent success with other content. */
export const restoreDamagedOp: Operation = async (world, story) => {
  const keys = new Set(await manifestKeys(world));
  const damaged = [...world.recorded.values()].filter((r) => keys.has(r.key) && !world.isIntact(r));
  if (damaged.length === 0) return;
  const snapshot = world.random.pick(damaged);
  try {
    const { tree, summary } = await restoreInto(world, snapshot);
    if (summary.manifestDamage) {
      // Restored what the damaged manifest still gives, and said so: what it wrote must be true.
      const wrong = Object.entries(tree).filter(([path, entry]) => {
        const truth = snapshot.tree[path];
        return entry.type === 'dir' ? truth?.type !== 'dir' : JSON.stringify(truth) !== JSON.stringify(entry);
      });
      if (wrong.length > 0)
        throw new ChaosViolation(`a partial restore of ${snapshot.key} wrote ${wrong[0]![0]} wrong`);
      story.push(
        `restore of damaged ${snapshot.key}: partial, ${summary.manifestDamage.lost} entries reported lost`,
      );
      return;
    }
    if (JSON.stringify(tree) !== JSON.stringify(snapshot.tree))
      throw new ChaosViolation(`restore of the damaged ${snapshot.key} succeeded with other content`);
    story.push(`restore of damaged ${snapshot.key}: complete (the damage did not touch it)`);
  } catch (err) {
    if (err instanceof ChaosViolation) throw err;
    mustBeReported(err, `restore of ${snapshot.key}`);
    story.push(`restore of damaged ${snapshot.key} reported: ${(err as Error).message}`);
  }
};
