import { createHash } from 'node:crypto';
import type { Backend } from '../backend/backend.js';
import { NotFoundError, UsageError } from '../errors.js';
import { LOCKS_PREFIX, manifestKey, parseManifestKey, SNAPSHOTS_PREFIX, stampTime } from './layout.js';

/** What a listing tells about a snapshot, before its manifest is read. */
export interface SnapshotRef {
  id: string;
  host: string;
  stamp: string;
  time: Date;
  key: string;
}

/** A snapshot's id follows from its host and stamp, so ids resolve from a listing alone. */
export function snapshotId(host: string, stamp: string): string {
  return createHash('sha256').update(`twinvault-snapshot:${host}/${stamp}`).digest('hex').slice(0, 32);
}

export function refFor(host: string, stamp: string): SnapshotRef {
  return { id: snapshotId(host, stamp), host, stamp, time: stampTime(stamp), key: manifestKey(host, stamp) };
}

/** Oldest first; snapshots of one second ordered by host, then suffix. */
export function sortRefs(refs: SnapshotRef[]): SnapshotRef[] {
  return refs.sort(
    (a, b) =>
      a.time.getTime() - b.time.getTime() || a.stamp.localeCompare(b.stamp) || a.host.localeCompare(b.host),
  );
}

export interface MetaListing {
  snapshots: SnapshotRef[];
  /** Keys under .twinvault/locks/. */
  locks: string[];
}

/** One listing of `.twinvault/` yields every snapshot and every lock. */
export async function listMeta(backend: Backend): Promise<MetaListing> {
  const snapshots: SnapshotRef[] = [];
  const locks: string[] = [];
  for await (const object of backend.list('.twinvault/')) {
    if (object.key.startsWith(SNAPSHOTS_PREFIX)) {
      const parsed = parseManifestKey(object.key);
      if (parsed) snapshots.push(refFor(parsed.host, parsed.stamp));
    } else if (object.key.startsWith(LOCKS_PREFIX)) {
      locks.push(object.key);
    }
  }
  return { snapshots: sortRefs(snapshots), locks };
}

export async function listSnapshots(backend: Backend): Promise<SnapshotRef[]> {
  const refs: SnapshotRef[] = [];
  for await (const object of backend.list(SNAPSHOTS_PREFIX)) {
    const parsed = parseManifestKey(object.key);
    if (parsed) refs.push(refFor(parsed.host, parsed.stamp));
  }
  return sortRefs(refs);
}

/**
 * Finds the snapshot a user named: "latest" (newest, of `host` when given), "<host>/<stamp>", or
 * a unique prefix of an id (at least 4 characters).
 */
export function resolveSnapshot(
  refs: SnapshotRef[],
  spec: string,
  options: { host?: string } = {},
): SnapshotRef {
  if (spec === 'latest') {
    const candidates = options.host ? refs.filter((ref) => ref.host === options.host) : refs;
    const latest = candidates.at(-1);
    if (!latest)
      throw new NotFoundError(
        `no snapshots${options.host ? ` of host "${options.host}"` : ''} in the repository`,
      );
    return latest;
  }
  if (spec.includes('/')) {
    const [host, stamp] = spec.split('/', 2) as [string, string];
    const found = refs.find((ref) => ref.host === host && ref.stamp === stamp);
    if (!found)
      throw new NotFoundError(`no snapshot "${spec}" in the repository`, {
        hint: 'list them with "twinvault snapshots"',
      });
    return found;
  }
  if (!/^[0-9a-f]{4,}$/.test(spec)) {
    throw new UsageError(
      `"${spec}" is not a snapshot: use "latest", <host>/<stamp>, or at least 4 hex digits of an id`,
    );
  }
  const matches = refs.filter((ref) => ref.id.startsWith(spec));
  if (matches.length === 0)
    throw new NotFoundError(`no snapshot with an id starting "${spec}"`, {
      hint: 'list them with "twinvault snapshots"',
    });
  if (matches.length > 1) {
    throw new UsageError(
      `"${spec}" matches ${matches.length} snapshots (${matches.map((m) => m.id.slice(0, 12)).join(', ')}); give more digits`,
    );
  }
  return matches[0]!;
}
