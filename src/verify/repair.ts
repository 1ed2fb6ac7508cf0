import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { ConfigError, isTwinvaultError } from '../errors.js';
import { headerKeyMismatch } from '../repository/header-identity.js';
import { parseManifestKey } from '../repository/layout.js';
import type { Entry } from '../repository/manifest.js';
import { decodeManifestAll } from '../repository/manifest-codec.js';
import { readRepoConfig } from '../repository/repo-config.js';
import { refFor } from '../repository/snapshots.js';
import { runPool } from '../util/pool.js';
import { isSelected, type ReadSubset } from './read-subset.js';
import { hashObject, readBack } from './repair-check.js';
import { type Problem, verifyInDetail } from './verify.js';

export interface RepairResult {
  /** What verify found in the repository being repaired. */
  found: Problem[];
  repaired: string[];
  /** Problems the healthy copy could not fix (it lacks the object, or its copy is bad too). */
  unrepaired: Array<{ key: string; message: string }>;
  dryRun: boolean;
}

/**
 * Heals `target` from `healthy` (a replica into the primary, or the other way): verifies the
 * target, then for each missing, wrong-size, corrupt object or damaged manifest fetches the
 * healthy copy, checks it (SHA-256 for objects, a full parse for manifests) before writing, and
 * writes only over what is broken. Objects are staged in a temporary file, so none is held whole
 * in memory and nothing unchecked reaches the target.
 */
export async function repairRepository(
  target: Backend,
  healthy: Backend,
  options: { dryRun?: boolean; readData?: ReadSubset } = {},
): Promise<RepairResult> {
  const [targetConfig, healthyConfig] = await Promise.all([
    readRepoConfig(target).catch(() => undefined),
    readRepoConfig(healthy),
  ]);
  if (targetConfig && targetConfig.id !== healthyConfig.id) {
    throw new ConfigError(
      `${healthy.location} holds another repository (id ${healthyConfig.id}) than ${target.location} (id ${targetConfig.id})`,
    );
  }
  const { result: verified, checked } = await verifyInDetail(
    target,
    options.readData ? { readData: options.readData } : {},
  );
  const result: RepairResult = {
    found: verified.problems,
    repaired: [],
    unrepaired: [],
    dryRun: options.dryRun ?? false,
  };
  // A damaged manifest is replaced by the healthy copy's, whose objects the target may lack: those
  // are checked too, and every object goes before any manifest.
  const objects = verified.problems.filter((p) => p.expected !== undefined);
  const metadata = verified.problems.filter((p) => p.expected === undefined);
  // Keys already looked at: verify's (the readable manifests name them), and those with problems.
  const known = new Set([...checked, ...objects.map((p) => p.key)]);
  for (const problem of metadata.filter((p) => p.kind === 'damaged-manifest')) {
    for (const needed of await objectsLacking(target, healthy, problem.key, known, options.readData)) {
      objects.push(needed);
    }
  }
  const staging = await mkdtemp(join(tmpdir(), 'twinvault-repair-'));
  const fix = async (problem: Problem) => {
    try {
      const fixed = await fetchChecked(healthy, problem, staging, result.dryRun);
      try {
        if (!result.dryRun) await fixed.write(target);
      } finally {
        await fixed.discard();
      }
      // Read back as a restore would: only what is right now counts as repaired.
      if (!result.dryRun) await readBack(target, problem);
      result.repaired.push(problem.key);
    } catch (err) {
      result.unrepaired.push({
        key: problem.key,
        message: isTwinvaultError(err) || err instanceof Error ? err.message : String(err),
      });
    }
  };
  try {
    await runPool(objects, 8, fix);
    // A manifest whose objects could not all be repaired stays as it is: never one without them.
    const blocked = new Set(result.unrepaired.map((u) => u.key));
    for (const problem of metadata) {
      const missing =
        problem.kind === 'damaged-manifest' ? await stillLacking(healthy, problem.key, blocked) : 0;
      if (missing > 0) {
        result.unrepaired.push({
          key: problem.key,
          message: `${missing} object(s) it references could not be repaired`,
        });
        continue;
      }
      await fix(problem);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  result.repaired.sort();
  return result;
}

/**
 * The objects a healthy manifest references that the target lacks or holds at another size, or
 * (with readData, for the objects it selects) holds with other content. Verify could not know the
 * target's damaged manifest needs them, so it looked at none of them.
 */
async function objectsLacking(
  target: Backend,
  healthy: Backend,
  manifestKey: string,
  known: Set<string>,
  readData: ReadSubset | undefined,
): Promise<Problem[]> {
  const lacking: Problem[] = [];
  let entries: Entry[];
  try {
    entries = (
      await decodeManifestAll(
        await readAll(await healthy.get(manifestKey)),
        `${healthy.location}/${manifestKey}`,
      )
    ).entries;
  } catch {
    return lacking; // the healthy copy is damaged too: the manifest's own repair will say so
  }
  for (const entry of entries) {
    if (entry.type !== 'file' || known.has(entry.key)) continue;
    known.add(entry.key);
    const expected = { size: entry.size, sha256: entry.sha256 };
    const message = `is needed by the repaired manifest ${manifestKey}`;
    let size: number | undefined;
    try {
      size = (await target.head(entry.key)).size;
    } catch (err) {
      if (!(isTwinvaultError(err) && err.code === 'NOT_FOUND')) throw err;
    }
    if (size !== entry.size) {
      const kind = size === undefined ? 'missing' : 'wrong-size';
      lacking.push({ kind, key: entry.key, snapshots: [], message, expected });
      continue;
    }
    if (!readData || !isSelected(readData, entry.key)) continue;
    try {
      if ((await hashObject(target, entry.key)).sha256 === entry.sha256) continue;
      lacking.push({ kind: 'corrupt', key: entry.key, snapshots: [], message, expected });
    } catch (err) {
      if (!isTwinvaultError(err)) throw err;
      lacking.push({ kind: 'unreadable', key: entry.key, snapshots: [], message, expected });
    }
  }
  return lacking;
}

/** How many objects a healthy manifest references among those that could not be repaired. */
async function stillLacking(healthy: Backend, manifestKey: string, unrepaired: Set<string>): Promise<number> {
  if (unrepaired.size === 0) return 0;
  try {
    const { entries } = await decodeManifestAll(await readAll(await healthy.get(manifestKey)), manifestKey);
    return entries.filter((entry) => entry.type === 'file' && unrepaired.has(entry.key)).length;
  } catch {
    return 0;
  }
}

/**
 * The healthy copy of what a problem names, checked; write() puts it into the target, discard()
 * removes its staging file. A dry run checks the bytes without keeping them.
 */
async function fetchChecked(
  healthy: Backend,
  problem: Problem,
  staging: string,
  dryRun: boolean,
): Promise<{ write(target: Backend): Promise<void>; discard(): Promise<void> }> {
  if (problem.kind === 'config' || problem.kind === 'damaged-manifest') {
    const data = await readAll(await healthy.get(problem.key));
    if (problem.kind === 'config') JSON.parse(data.toString('utf8'));
    else await checkHealthyManifest(data, healthy, problem.key);
    const head = await healthy.head(problem.key);
    return {
      write: (target) =>
        target.put(
          problem.key,
          bodyFromBuffer(data),
          head.contentType ? { contentType: head.contentType } : {},
        ),
      discard: async () => {},
    };
  }
  const expected = problem.expected!;
  const head = await healthy.head(problem.key);
  if (head.size !== expected.size) {
    throw new Error(
      `the healthy copy in ${healthy.location} holds ${head.size} bytes, not ${expected.size}: it cannot repair this`,
    );
  }
  const file = join(staging, createHash('sha256').update(problem.key).digest('hex'));
  const hash = createHash('sha256');
  const source = await healthy.get(problem.key);
  source.on('data', (chunk: Buffer) => hash.update(chunk));
  if (dryRun) for await (const _ of source);
  else await pipeline(source, createWriteStream(file));
  const discard = () => rm(file, { force: true });
  if (hash.digest('hex') !== expected.sha256) {
    await discard();
    throw new Error(`the healthy copy in ${healthy.location} fails its SHA-256 too: it cannot repair this`);
  }
  return {
    write: (target) =>
      target.put(
        problem.key,
        { size: expected.size, open: () => createReadStream(file) },
        {
          metadata: { ...head.metadata, sha256: expected.sha256 },
          sha256: expected.sha256,
          content: true,
          ...(head.contentType ? { contentType: head.contentType } : {}),
        },
      ),
    discard,
  };
}

/** A healthy copy of a manifest reads in full and names the snapshot of its key. */
async function checkHealthyManifest(data: Buffer, healthy: Backend, key: string): Promise<void> {
  const { header } = await decodeManifestAll(data, `${healthy.location}/${key}`);
  const parsed = parseManifestKey(key);
  const mismatch = parsed ? headerKeyMismatch(header, refFor(parsed.host, parsed.stamp)) : undefined;
  if (mismatch) throw new Error(`the copy in ${healthy.location} cannot repair it: ${mismatch}`);
}
