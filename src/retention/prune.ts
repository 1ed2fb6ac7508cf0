import type { AbandonedWrites, Backend, ObjectInfo } from '../backend/backend.js';
import { type Clock, systemClock } from '../clock.js';
import { IntegrityError, isTwinvaultError } from '../errors.js';
import { priceTable } from '../repository/class-billing.js';
import { isSnapshotContentKey, isValidHost } from '../repository/layout.js';
import { isStale, LOCK_TTL_MS, type LockInfo, liveLocks, readLock } from '../repository/locks.js';
import { forEachReference } from '../repository/manifest-refs.js';
import { listMeta } from '../repository/snapshots.js';
import { runPool } from '../util/pool.js';
import { type EarlyDeletionCharge, earlyDeletionCharge } from './early-deletion.js';
import { lockExclusively } from './exclusive-lock.js';
import { ResumableLeftovers } from './resumable-leftovers.js';

export interface PruneOptions {
  backend: Backend;
  dryRun?: boolean;
  clock?: Clock;
  lockWaitMs?: number;
  onWait?: (why: string) => void;
  /** Told after each batch of deletes. */
  onProgress?: (deleted: number, total: number) => void;
  /** Prices (USD per GiB-month) for the early-deletion estimate; AWS list prices by default. */
  prices?: Partial<Record<string, number>>;
  /** Told before anything is deleted, when objects go before their class's minimum duration. */
  onEarlyDeletion?: (charge: EarlyDeletionCharge) => void;
}

export interface PruneResult {
  snapshots: number;
  /** Objects the snapshots reference. */
  referenced: number;
  unreferenced: { objects: number; bytes: number };
  deleted: { objects: number; bytes: number };
  /**
   * Unreferenced but written since a running backup began, or under the host folder of a running
   * backup (it may be reusing leftovers of an interrupted run there): it may be about to reference them.
   */
  keptForRunningBackups: number;
  /**
   * Unreferenced uploads of an interrupted backup that its next run can still take up
   * (resumable-leftovers.ts): kept for up to 30 days.
   */
  keptForResume: { objects: number; bytes: number };
  /** Unreferenced but under Object Lock retention still: deleted by a later prune. */
  locked: { objects: number; bytes: number; until: string | undefined };
  staleLocksRemoved: number;
  /** Temporary files of writes a killed process left (a local folder's `.twinvault-tmp/*.part`). */
  abandonedWrites: AbandonedWrites;
  failed: Array<{ key: string; message: string }>;
  dryRun: boolean;
  /** Deleted before their storage class's minimum duration: billed for the rest (early-deletion.ts). */
  earlyDeletion?: EarlyDeletionCharge;
}

/** Objects written this long before a running backup's lock was taken count as its own too. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** A temporary file untouched this long belongs to no write in progress (each write keeps touching its file). */
const ABANDONED_WRITE_MS = 60 * 60_000;
const BATCH = 1000;

/**
 * Deletes the objects no snapshot references: what forgotten snapshots alone needed, and what
 * crashed backups left. Holds the exclusive lock, so backups starting meanwhile wait; backups
 * already running go on, and every unreferenced object written since the oldest of them began is
 * kept. A manifest that cannot be read stops the prune before anything is deleted.
 */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  const { backend } = options;
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  const held = dryRun
    ? undefined
    : await lockExclusively(backend, {
        operation: 'prune',
        clock,
        waitForBackups: false,
        ...(options.lockWaitMs === undefined ? {} : { waitMs: options.lockWaitMs }),
        ...(options.onWait ? { onWait: options.onWait } : {}),
      });
  try {
    const meta = held?.meta ?? (await listMeta(backend));
    const now = clock.now();
    // A dry run takes no lock, but keeps what the real run would keep for running backups.
    const running = held?.runningBackups ?? (await runningBackups(backend, meta.locks, now));
    const keepFrom = await runningSince(backend, running);
    const busyHosts = runningHosts(running);

    const referenced = new Set<string>();
    const resumable = new ResumableLeftovers(now);
    for (const ref of meta.snapshots) {
      try {
        resumable.add(await forEachReference(backend, ref.key, (key) => referenced.add(key)));
      } catch (err) {
        if (isTwinvaultError(err) && err.code === 'NOT_FOUND') continue; // forgotten meanwhile: needs nothing
        throw new IntegrityError(
          `prune stopped before deleting anything: snapshot ${ref.id} (${ref.key}) cannot be read: ${(err as Error).message}`,
          {
            cause: err,
            hint: 'run "twinvault verify"; repair or forget that snapshot, then prune again',
          },
        );
      }
    }

    const result: PruneResult = {
      snapshots: meta.snapshots.length,
      referenced: referenced.size,
      unreferenced: { objects: 0, bytes: 0 },
      deleted: { objects: 0, bytes: 0 },
      keptForRunningBackups: 0,
      keptForResume: { objects: 0, bytes: 0 },
      locked: { objects: 0, bytes: 0, until: undefined },
      staleLocksRemoved: 0,
      abandonedWrites: { files: 0, bytes: 0 },
      failed: [],
      dryRun,
    };
    const doomed: ObjectInfo[] = [];
    for await (const object of backend.list()) {
      // Only what backups write: objects beside the repository (init --allow-nonempty) are not ours.
      if (!isSnapshotContentKey(object.key) || referenced.has(object.key)) continue;
      result.unreferenced.objects++;
      result.unreferenced.bytes += object.size;
      const host = object.key.slice(0, object.key.indexOf('/'));
      if (object.lastModified.getTime() >= keepFrom || busyHosts.has(host)) result.keptForRunningBackups++;
      else if (resumable.keeps(object)) {
        result.keptForResume.objects++;
        result.keptForResume.bytes += object.size;
      } else doomed.push(object);
    }

    if (backend.capabilities.objectLock) {
      const unlocked = await withoutLocked(backend, doomed, now, result);
      doomed.splice(0, doomed.length, ...unlocked);
    }
    // Before anything goes: what deleting early in a minimum-duration class still costs.
    const early = earlyDeletionCharge(doomed, now, priceTable(options.prices));
    if (early) {
      result.earlyDeletion = early;
      options.onEarlyDeletion?.(early);
    }
    for (let start = 0; start < doomed.length; start += BATCH) {
      const batch = doomed.slice(start, start + BATCH);
      if (!dryRun) {
        await held!.lock.ensureHeld();
        const outcome = await backend.deleteMany(batch.map((object) => object.key));
        const failed = new Set(outcome.failed.map((failure) => failure.key));
        for (const failure of outcome.failed)
          result.failed.push({ key: failure.key, message: failure.error.message });
        for (const object of batch) {
          if (failed.has(object.key)) continue;
          result.deleted.objects++;
          result.deleted.bytes += object.size;
        }
      } else {
        result.deleted.objects += batch.length;
        result.deleted.bytes += batch.reduce((sum, object) => sum + object.size, 0);
      }
      options.onProgress?.(result.deleted.objects, doomed.length);
    }

    // Locks of crashed runs: their leftovers went above, unless a running backup's window kept them.
    for (const key of meta.locks) {
      if (key === held?.lock.key) continue;
      const info = await readLock(backend, key);
      if (info && !isStale(info, now)) continue;
      if (!dryRun) await backend.delete(key);
      result.staleLocksRemoved++;
    }
    if (backend.removeAbandonedWrites) {
      if (!dryRun) await held!.lock.ensureHeld();
      const before = new Date(Math.min(keepFrom, now.getTime() - ABANDONED_WRITE_MS));
      result.abandonedWrites = await backend.removeAbandonedWrites(before, { dryRun });
    }
    return result;
  } finally {
    await held?.lock.release().catch(() => {});
  }
}

/** The live shared locks: backups (and replication passes) running now. */
async function runningBackups(
  backend: Backend,
  locks: string[],
  now: Date,
): Promise<Array<{ key: string; info: LockInfo }>> {
  return (await liveLocks(backend, locks, now)).filter(({ info }) => info.kind === 'shared');
}

/** The objects whose Object Lock retention is over; the others are counted as locked. */
async function withoutLocked<T extends { key: string; size: number }>(
  backend: Backend,
  objects: T[],
  now: Date,
  result: PruneResult,
): Promise<T[]> {
  const free: T[] = [];
  await runPool(objects, 16, async (object) => {
    const until = (await backend.head(object.key)).lockedUntil;
    if (until === undefined || until.getTime() <= now.getTime()) {
      free.push(object);
      return;
    }
    result.locked.objects++;
    result.locked.bytes += object.size;
    const iso = until.toISOString();
    if (result.locked.until === undefined || iso < result.locked.until) result.locked.until = iso;
  });
  return free;
}

/**
 * The host folders of running backups. A backup may reference, at their old keys, objects that an
 * interrupted run of its host left (backup/leftovers.ts): older than the backup itself, so only
 * its host, named in its lock, tells prune to keep them. Kept until no backup of that host runs;
 * the next prune removes what stays unreferenced. Locks written by versions without the field
 * name no host: those backups reuse nothing.
 */
function runningHosts(running: Array<{ info: LockInfo }>): Set<string> {
  const hosts = new Set<string>();
  for (const { info } of running) {
    if (info.kind === 'shared' && typeof info.snapshotHost === 'string' && isValidHost(info.snapshotHost))
      hosts.add(info.snapshotHost);
  }
  return hosts;
}

/**
 * When the oldest running backup began, in the store's time: its lock says when in its own
 * machine's time, and the store stamped the lock's last write, which tells how far that machine's
 * clock is off. Objects stamped from then on (less a margin) are kept.
 */
async function runningSince(
  backend: Backend,
  running: Array<{ key: string; info: LockInfo }>,
): Promise<number> {
  let oldest = Number.POSITIVE_INFINITY;
  for (const { key, info } of running) {
    let skew = 0;
    try {
      const written = (await backend.head(key)).lastModified.getTime();
      skew = written - (Date.parse(info.expires) - LOCK_TTL_MS);
    } catch {
      // Released meanwhile: its snapshot is written; its own clock is the best there is.
    }
    oldest = Math.min(oldest, Date.parse(info.created) + (Number.isFinite(skew) ? skew : 0));
  }
  return oldest - CLOCK_SKEW_MS;
}
