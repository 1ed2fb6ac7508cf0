import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { gzipSync } from 'node:zlib';
import { bodyFromBuffer, readAll } from '../../src/backend/body.js';
import { manifestKey, stampFor } from '../../src/repository/layout.js';
import { ownIdentity } from '../../src/repository/lock-holder.js';
import { type LockInfo, lockKey } from '../../src/repository/locks.js';
import type { Entry, ManifestHeader } from '../../src/repository/manifest.js';
import { decodeManifestBuffer, encodeManifest } from '../../src/repository/manifest-codec.js';
import { snapshotId } from '../../src/repository/snapshots.js';
import { HOST, type Recorded, type World } from './world.js';

/** One way of hurting a repository; it says what it did, or undefined when it found nothing to hurt. */
export type Damage = (world: World) => Promise<string | undefined>;

const present = async (world: World, kind: 'manifest' | 'object'): Promise<string[]> => {
  const keys = new Set(await world.keys());
  if (kind === 'manifest') return [...world.recorded.keys()].filter((key) => keys.has(key));
  const objects = new Set<string>();
  for (const snapshot of world.recorded.values())
    for (const key of snapshot.objects) if (keys.has(key)) objects.add(key);
  return [...objects].sort();
};

const bytesOf = async (world: World, key: string) => readAll(await world.backend.get(key));

const rewrite = async (world: World, key: string, body: Buffer) => {
  await world.backend.delete(key);
  await world.backend.put(key, bodyFromBuffer(body));
  world.damagedKeys.add(key);
};

const truncateManifest: Damage = async (world) => {
  const keys = await present(world, 'manifest');
  if (keys.length === 0) return undefined;
  const key = world.random.pick(keys);
  const body = await bytesOf(world, key);
  await rewrite(world, key, body.subarray(0, 10 + world.random.int(Math.max(1, body.length - 11))));
  return `truncated manifest ${key}`;
};

const deleteManifest: Damage = async (world) => {
  const keys = await present(world, 'manifest');
  if (keys.length === 0) return undefined;
  const key = world.random.pick(keys);
  await world.backend.delete(key);
  world.damagedKeys.add(key);
  return `deleted manifest ${key}`;
};

const swapManifests: Damage = async (world) => {
  // Never a manifest damaged already: swapping one pair twice would put both back.
  const keys = (await present(world, 'manifest')).filter((key) => !world.damagedKeys.has(key));
  if (keys.length < 2) return undefined;
  const a = world.random.pick(keys);
  const b = world.random.pick(keys.filter((key) => key !== a));
  const [bodyA, bodyB] = [await bytesOf(world, a), await bytesOf(world, b)];
  await rewrite(world, a, bodyB);
  await rewrite(world, b, bodyA);
  return `swapped manifests ${a} and ${b}`;
};

const corruptObject: Damage = async (world) => {
  const keys = (await present(world, 'object')).filter(Boolean);
  if (keys.length === 0) return undefined;
  const key = world.random.pick(keys);
  const body = Buffer.from(await bytesOf(world, key));
  if (body.length === 0) return undefined;
  const at = world.random.int(body.length);
  body[at] = body[at]! ^ 0x5a;
  await rewrite(world, key, body);
  return `flipped a byte of ${key}`;
};

const truncateObject: Damage = async (world) => {
  const keys = await present(world, 'object');
  if (keys.length === 0) return undefined;
  const key = world.random.pick(keys);
  const body = await bytesOf(world, key);
  if (body.length === 0) return undefined;
  await rewrite(world, key, body.subarray(0, world.random.int(body.length)));
  return `truncated object ${key}`;
};

const deleteObject: Damage = async (world) => {
  const keys = await present(world, 'object');
  if (keys.length === 0) return undefined;
  const key = world.random.pick(keys);
  await world.backend.delete(key);
  world.damagedKeys.add(key);
  return `deleted object ${key}`;
};

/** A new manifest under a stamp of its own, made from an existing one by `change`. */
async function forge(
  world: World,
  at: Date,
  change: (header: ManifestHeader, entries: Entry[]) => { header: ManifestHeader; entries: Entry[] } | Buffer,
): Promise<{ key: string; from: Recorded } | undefined> {
  const keys = await present(world, 'manifest');
  const intact = keys.map((key) => world.recorded.get(key)!).filter((r) => world.isIntact(r) && !r.forged);
  if (intact.length === 0) return undefined;
  const from = world.random.pick(intact);
  const { header, entries } = decodeManifestBuffer(await bytesOf(world, from.key), from.key);
  const taken = new Set(keys);
  const stamp = stampFor(at, (s) => taken.has(manifestKey(HOST, s)));
  const forgedHeader: ManifestHeader = {
    ...header,
    id: snapshotId(HOST, stamp),
    stamp,
    time: at.toISOString(),
  };
  const changed = change(forgedHeader, entries);
  const body = Buffer.isBuffer(changed) ? changed : await encodeManifest(changed.header, changed.entries);
  const key = manifestKey(HOST, stamp);
  await world.backend.put(key, bodyFromBuffer(body));
  return { key, from };
}

/** A readable snapshot dated a month ahead (a host with a wrong clock, or a forgery). */
const forgeFuture: Damage = async (world) => {
  const at = new Date(world.clock.now().getTime() + 30 * 86_400_000);
  const forged = await forge(world, at, (header, entries) => ({ header, entries }));
  if (!forged) return undefined;
  const { from } = forged;
  await world.record(forged.key, at.toISOString(), from.sources, from.tree, true);
  return `forged ${forged.key} (a copy of ${from.key}) dated ${at.toISOString()}`;
};

const forgeDuplicatePath: Damage = async (world) => {
  const at = new Date(world.clock.now().getTime() - 60_000);
  const forged = await forge(world, at, (header, entries) => {
    const file = entries.findIndex((entry) => entry.type === 'file');
    if (file < 0) return { header, entries };
    const doubled = [...entries.slice(0, file + 1), entries[file]!, ...entries.slice(file + 1)];
    return { header: { ...header, entries: doubled.length }, entries: doubled };
  });
  if (!forged) return undefined;
  world.damagedKeys.add(forged.key);
  return `forged ${forged.key} with a path twice`;
};

/** A small gzip that inflates to one enormous line: must be reported, never crash a command. */
const manifestBomb: Damage = async (world) => {
  const at = new Date(world.clock.now().getTime() - 120_000);
  const forged = await forge(world, at, (header) => {
    const line = Buffer.alloc(64 * 1024 * 1024, 0x61);
    return gzipSync(Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n{"path":"`), line]), {
      level: 9,
    });
  });
  if (!forged) return undefined;
  world.damagedKeys.add(forged.key);
  return `wrote a manifest bomb at ${forged.key}`;
};

/**
 * A lock left by a backup or prune of this machine that was killed: written as this process writes
 * its own (host name and holder identity), with a pid that is gone, so it is stale at once.
 */
const deadProcessLock: Damage = async (world) => {
  const now = world.clock.now();
  const kind = world.random.pick(['shared', 'exclusive'] as const);
  const expires = new Date(now.getTime() + 25 * 60_000);
  const info: LockInfo = {
    kind,
    host: hostname(),
    pid: 2 ** 22 + world.random.int(1000), // above Linux's pid_max and macOS's: never a live process
    operation: kind === 'shared' ? 'backup' : 'prune',
    created: now.toISOString(),
    expires: expires.toISOString(),
    holder: ownIdentity(),
  };
  const key = lockKey(kind, randomBytes(8).toString('hex'));
  await world.backend.put(key, bodyFromBuffer(JSON.stringify(info)));
  world.deadLocks.set(key, expires);
  return `left a ${kind} lock of a dead process (pid ${info.pid})`;
};

/** Objects an interrupted backup uploaded before it died: in a stamp folder no manifest names. */
const leftovers: Damage = async (world) => {
  const stamp = stampFor(new Date(world.clock.now().getTime() - 30_000), () => false);
  const key = `${HOST}/${stamp}_9/Documents/leftover-${world.random.int(1000)}.bin`;
  await world.backend.put(key, bodyFromBuffer(world.random.bytes(100)));
  return `left ${key} as an interrupted backup would`;
};

export const DAMAGES: Record<string, Damage> = {
  truncateManifest,
  deleteManifest,
  swapManifests,
  corruptObject,
  truncateObject,
  deleteObject,
  forgeFuture,
  forgeDuplicatePath,
  manifestBomb,
  deadProcessLock,
  leftovers,
};
