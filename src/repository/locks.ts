import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import type { Clock } from '../clock.js';
import { TwinvaultError } from '../errors.js';
import { LOCKS_PREFIX } from './layout.js';
import { type HolderIdentity, holderState, ownIdentity } from './lock-holder.js';

export type LockKind = 'shared' | 'exclusive';

export interface LockInfo {
  kind: LockKind;
  host: string;
  pid: number;
  operation: string;
  created: string;
  /** Past this time the lock is stale: its holder is presumed dead. */
  expires: string;
  /** What tells its process apart on its machine (lock-holder.ts): stale at once there when gone. */
  holder?: HolderIdentity;
}

/** A lock is refreshed this often while held... */
export const LOCK_REFRESH_MS = 5 * 60_000;
/** ...and is stale when not refreshed for this long. */
export const LOCK_TTL_MS = 30 * 60_000;
/**
 * A holder gives its lock up for lost this long before others may take it as stale: the margin
 * covers clocks that disagree between machines. A lock not refreshed in time (a laptop asleep, a
 * stopped process) is never written again: others may have pruned under it meanwhile.
 */
const LOST_MARGIN_MS = 5 * 60_000;

/** The kind shows in the key, so a listing tells shared from exclusive without reading them. */
export function lockKey(kind: LockKind, id: string): string {
  return `${LOCKS_PREFIX}${kind}-${id}.json`;
}

export function lockKindOf(key: string): LockKind | undefined {
  if (key.startsWith(`${LOCKS_PREFIX}shared-`)) return 'shared';
  if (key.startsWith(`${LOCKS_PREFIX}exclusive-`)) return 'exclusive';
  return undefined;
}

export class LockedError extends TwinvaultError {
  constructor(message: string, hint?: string) {
    super('STORAGE_FAILED', message, { retryable: true, ...(hint ? { hint } : {}) });
  }
}

/**
 * A lock object in the repository, refreshed on a real-time timer while held (lock lifetimes are
 * wall-clock facts even when tests inject a clock for everything else).
 */
export class RepositoryLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private refreshing: Promise<void> | undefined;

  private constructor(
    private readonly backend: Backend,
    readonly key: string,
    private info: LockInfo,
    private readonly clock: Clock,
  ) {}

  static async acquire(
    backend: Backend,
    kind: LockKind,
    operation: string,
    clock: Clock,
  ): Promise<RepositoryLock> {
    const now = clock.now();
    const info: LockInfo = {
      kind,
      host: hostname(),
      pid: process.pid,
      operation,
      created: now.toISOString(),
      expires: new Date(now.getTime() + LOCK_TTL_MS).toISOString(),
      holder: ownIdentity(),
    };
    const lock = new RepositoryLock(backend, lockKey(kind, randomBytes(8).toString('hex')), info, clock);
    await lock.write();
    lock.timer = setInterval(() => {
      lock.refreshing = lock.refresh().catch(() => {
        // A failed refresh is retried at the next tick; the lock only goes stale after its TTL.
      });
    }, LOCK_REFRESH_MS);
    lock.timer.unref();
    return lock;
  }

  async refresh(): Promise<void> {
    if (this.released || this.lost) return;
    if (this.clock.now().getTime() - this.lastWritten > LOCK_TTL_MS - LOST_MARGIN_MS) {
      this.lost = true;
      clearInterval(this.timer);
      return;
    }
    this.info = { ...this.info, expires: new Date(this.clock.now().getTime() + LOCK_TTL_MS).toISOString() };
    await this.write();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    // A refresh still on its way would otherwise write the lock again after the delete.
    await this.refreshing;
    await this.backend.delete(this.key);
  }

  /** Before committing work: refreshes a lock not written for a while; fails if it lapsed. */
  async ensureHeld(): Promise<void> {
    const age = this.clock.now().getTime() - this.lastWritten;
    if (this.lost || age > LOCK_TTL_MS - LOST_MARGIN_MS) {
      this.lost = true;
      throw new LockedError(
        `the repository lock ${this.key} was not refreshed for ${Math.round(age / 60_000)} minutes, so others may take it as stale`,
        'run again; a prune may have run meanwhile',
      );
    }
    if (age > LOCK_REFRESH_MS) await this.refresh();
  }

  private lastWritten = 0;
  private lost = false;

  private async write(): Promise<void> {
    const at = this.clock.now().getTime();
    await this.backend.put(this.key, bodyFromBuffer(JSON.stringify(this.info)), {
      contentType: 'application/json',
    });
    this.lastWritten = at;
  }
}

export async function readLock(backend: Backend, key: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse((await readAll(await backend.get(key))).toString('utf8')) as LockInfo;
  } catch (err) {
    if (err instanceof TwinvaultError && err.code === 'NOT_FOUND') return undefined;
    if (err instanceof SyntaxError) return undefined; // a torn lock is no lock
    throw err;
  }
}

/** Expired, or held by a process of this machine that is gone (a crash, a SIGKILL). */
export function isStale(info: LockInfo, now: Date): boolean {
  return isExpired(info, now) || holderState(info) === 'gone';
}

export function isExpired(info: LockInfo, now: Date): boolean {
  const expires = Date.parse(info.expires);
  return Number.isNaN(expires) || expires < now.getTime();
}

/** Live exclusive locks among `keys` (from a listing), other than `ownKey`. */
export async function liveExclusiveLocks(backend: Backend, keys: string[], now: Date): Promise<LockInfo[]> {
  const live: LockInfo[] = [];
  for (const key of keys) {
    if (lockKindOf(key) !== 'exclusive') continue;
    const info = await readLock(backend, key);
    if (info && !isStale(info, now)) live.push(info);
  }
  return live;
}

/** Live locks (of either kind) among `keys`, other than `ownKey`, with their keys. */
export async function liveLocks(
  backend: Backend,
  keys: string[],
  now: Date,
  ownKey?: string,
): Promise<Array<{ key: string; info: LockInfo }>> {
  const live: Array<{ key: string; info: LockInfo }> = [];
  for (const key of keys) {
    if (key === ownKey || lockKindOf(key) === undefined) continue;
    const info = await readLock(backend, key);
    if (info && !isStale(info, now)) live.push({ key, info });
  }
  return live;
}
