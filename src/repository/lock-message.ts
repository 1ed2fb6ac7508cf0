import { hostname } from 'node:os';
import { holderState } from './lock-holder.js';
import { LockedError, type LockInfo } from './locks.js';

/**
 * What a user needs when a lock is in the way: whose it is, how old, when it goes stale on its
 * own, and how to clear it if its holder crashed. Shared by every command a lock can block.
 */
export function describeLock(info: LockInfo, now: Date): string {
  const created = Date.parse(info.created);
  const age = Number.isNaN(created) ? '' : ` (${ago(now.getTime() - created)})`;
  return `${info.operation} on ${info.host} (pid ${info.pid}) since ${info.created}${age}; its lock expires at ${info.expires} unless renewed`;
}

export function unlockHint(info: LockInfo): string {
  if (holderState(info) === 'running')
    return `${info.operation} (pid ${info.pid}) is still running on this machine: wait for it to finish`;
  const here = info.host === hostname();
  return (
    `wait for it to finish; if that ${info.operation} crashed, ` +
    (here
      ? `run "twinvault unlock --remove-all" once you are sure it is not running, here or on another machine named ${info.host}`
      : `run "twinvault unlock" on ${info.host}, or "twinvault unlock --remove-all" here once you are sure nothing of twinvault runs on ${info.host} (it removes every lock)`)
  );
}

/** The error of a command that waited in vain: `what` is locked, e.g. "the repository". */
export function lockedError(what: string, info: LockInfo, now: Date, hint?: string): LockedError {
  return new LockedError(`${what} is locked by ${describeLock(info, now)}`, hint ?? unlockHint(info));
}

function ago(ms: number): string {
  if (ms < -60_000) return "ahead of this machine's clock";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'less than a minute ago';
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours ago`;
  return `${Math.round(hours / 24)} days ago`;
}
