import type { Backend } from '../backend/backend.js';
import type { Clock } from '../clock.js';
import { describeLock, lockedError } from '../repository/lock-message.js';
import { type LockInfo, liveLocks, RepositoryLock } from '../repository/locks.js';
import { listMeta, type MetaListing } from '../repository/snapshots.js';

export interface ExclusiveOptions {
  operation: 'forget' | 'prune';
  clock: Clock;
  /** Whether running backups (shared locks) must finish first (forget), or may go on (prune). */
  waitForBackups: boolean;
  /** How long to wait for other locks to go (default 30 minutes). */
  waitMs?: number;
  /** Told why, each time it waits. */
  onWait?: (why: string) => void;
}

export interface ExclusiveLock {
  lock: RepositoryLock;
  /** The listing of `.twinvault/` taken once the lock was in place. */
  meta: MetaListing;
  /** Backups still running (prune lets them finish, keeping what they wrote), with their lock keys. */
  runningBackups: Array<{ key: string; info: LockInfo }>;
}

const POLL_MS = 5000;

/**
 * Takes the repository's exclusive lock: written first, then every other lock is looked at, so a
 * backup starting at the same moment either is seen here or sees this lock (and waits). While
 * another exclusive lock (or, for forget, a backup) is live, it lets go and waits, saying why.
 */
export async function lockExclusively(backend: Backend, options: ExclusiveOptions): Promise<ExclusiveLock> {
  const { clock } = options;
  const deadline = clock.now().getTime() + (options.waitMs ?? 30 * 60_000);
  for (;;) {
    const lock = await RepositoryLock.acquire(backend, 'exclusive', options.operation, clock);
    let meta: MetaListing;
    let others: Array<{ key: string; info: LockInfo }>;
    try {
      meta = await listMeta(backend);
      others = await liveLocks(backend, meta.locks, clock.now(), lock.key);
    } catch (err) {
      await lock.release().catch(() => {});
      throw err;
    }
    const blocking = others.filter(({ info }) => info.kind === 'exclusive' || options.waitForBackups);
    if (blocking.length === 0) {
      return { lock, meta, runningBackups: others };
    }
    await lock.release();
    const holder = blocking[0]!.info;
    if (clock.now().getTime() >= deadline) throw lockedError('the repository', holder, clock.now());
    options.onWait?.(`the repository is locked by ${describeLock(holder, clock.now())}; waiting`);
    await clock.sleep(POLL_MS + Math.floor(Math.random() * 1000));
  }
}
