import type { Backend } from '../backend/backend.js';
import type { Clock } from '../clock.js';
import { describeLock, lockedError } from '../repository/lock-message.js';
import { liveExclusiveLocks, RepositoryLock } from '../repository/locks.js';
import { listMeta, type MetaListing } from '../repository/snapshots.js';
import type { BackupOptions } from './backup-options.js';

const LOCK_POLL_MS = 10_000;

/** Takes a shared lock, then lists; waits (saying why) while a prune holds an exclusive lock. */
export async function lockForBackup(
  backend: Backend,
  options: BackupOptions,
  clock: Clock,
): Promise<{ lock: RepositoryLock; meta: MetaListing }> {
  const deadline = clock.now().getTime() + (options.lockWaitMs ?? 30 * 60_000);
  for (;;) {
    // The lock names the host folder: prune then keeps what this run may reuse (leftovers.ts).
    const lock = await RepositoryLock.acquire(backend, 'shared', 'backup', clock, {
      snapshotHost: options.host,
    });
    let meta: MetaListing;
    let blocking: Awaited<ReturnType<typeof liveExclusiveLocks>>;
    try {
      meta = await listMeta(backend);
      blocking = await liveExclusiveLocks(backend, meta.locks, clock.now());
    } catch (err) {
      await lock.release().catch(() => {});
      throw err;
    }
    if (blocking.length === 0) return { lock, meta };
    await lock.release();
    const holder = blocking[0]!;
    if (clock.now().getTime() >= deadline) throw lockedError('the repository', holder, clock.now());
    options.onEvent?.({
      type: 'waiting',
      reason: `the repository is locked by ${describeLock(holder, clock.now())}; waiting`,
    });
    await clock.sleep(LOCK_POLL_MS);
  }
}
