import type { Backend } from '../backend/backend.js';
import type { Clock } from '../clock.js';
import { LOCKS_PREFIX } from './layout.js';
import { holderState } from './lock-holder.js';
import { isExpired, type LockInfo, readLock } from './locks.js';

export interface UnlockOptions {
  clock: Clock;
  /** Also remove live locks, of other machines too: only once nothing of twinvault runs there. */
  removeAll?: boolean;
}

export interface UnlockedLock {
  key: string;
  /** Absent for a lock file that cannot be parsed (torn): every command ignores it anyway. */
  info?: LockInfo;
  reason: UnlockReason;
  why: string;
}

export type UnlockReason = 'unreadable' | 'gone' | 'expired' | 'forced' | 'running' | 'live';

export interface UnlockResult {
  removed: UnlockedLock[];
  kept: UnlockedLock[];
}

/**
 * `twinvault unlock` (restic's): removes stale locks, those expired and those whose process is
 * gone from this machine; with `removeAll`, every lock but one held by a process this machine
 * can see running. A live lock of another machine cannot be told from a crashed one, so only
 * `removeAll` takes it, on the user's word.
 */
export async function unlock(backend: Backend, options: UnlockOptions): Promise<UnlockResult> {
  const result: UnlockResult = { removed: [], kept: [] };
  const keys: string[] = [];
  for await (const object of backend.list(LOCKS_PREFIX)) keys.push(object.key);
  const now = options.clock.now();
  for (const key of keys) {
    const info = await readLock(backend, key);
    const decision = decide(info, now, options.removeAll ?? false);
    if (decision.remove) {
      await backend.delete(key);
      result.removed.push({ key, ...(info ? { info } : {}), ...decision });
    } else {
      result.kept.push({ key, ...(info ? { info } : {}), ...decision });
    }
  }
  return result;
}

function decide(
  info: LockInfo | undefined,
  now: Date,
  removeAll: boolean,
): { remove: boolean; reason: UnlockReason; why: string } {
  if (!info || typeof info !== 'object') return { remove: true, reason: 'unreadable', why: 'unreadable' };
  const state = holderState(info);
  if (state === 'running')
    return { remove: false, reason: 'running', why: 'its process is running on this machine' };
  if (state === 'gone') return { remove: true, reason: 'gone', why: 'its process is gone from this machine' };
  if (isExpired(info, now)) return { remove: true, reason: 'expired', why: 'expired' };
  if (removeAll) return { remove: true, reason: 'forced', why: 'live, removed with --remove-all' };
  return { remove: false, reason: 'live', why: 'live: not expired, held on another machine' };
}
