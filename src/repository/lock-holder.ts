import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { stateFolder } from '../config/paths.js';
import { installId } from './install-id.js';

/**
 * What tells this process apart beyond its host name and pid. A lock records it, so a lock of
 * this machine whose process is gone can be told stale at once, without waiting for it to expire.
 * Only a lock that carries this machine's `installId` counts as this machine's: host names are
 * not unique (two Macs called "MacBook-Pro" backing up to one bucket), and a pid says nothing
 * about a process elsewhere. On Linux a few small /proc files (read once) tell more: another boot,
 * another container, a reused pid. Elsewhere (macOS, Windows) a reused pid keeps a dead lock live
 * until it expires: a wait, never a lock wrongly taken as stale.
 */
export interface HolderIdentity {
  /**
   * This user's twinvault on this machine: a random id kept in the state folder (install-id.ts).
   * Locks without it (older versions, a state folder that cannot be written) wait for expiry.
   */
  installId?: string;
  /**
   * From /etc/machine-id (hashed, as systemd asks of ids shown outside the machine): two machines
   * that share a host name differ here.
   */
  machine?: string;
  /** From /proc/sys/kernel/random/boot_id (hashed too): no process of an earlier boot still runs. */
  boot?: string;
  /** The pid namespace (/proc/self/ns/pid): a pid of another container means nothing here. */
  pidNamespace?: string;
  /** The process's start, in clock ticks since boot (/proc/<pid>/stat): a reused pid has another. */
  started?: string;
}

/** What a lock says of its holder. */
export interface LockHolder {
  host: string;
  pid: number;
  holder?: HolderIdentity;
}

/**
 * running: its process is alive on this machine; gone: it is not (stale at once); unknown: it is
 * on another machine (or one this process cannot see into), so only its expiry tells.
 */
export type HolderState = 'running' | 'gone' | 'unknown';

let own: HolderIdentity | undefined;

/** This process's identity (read once; the state folder's install id is made the first time). */
export function ownIdentity(): HolderIdentity {
  if (!own) {
    own = {};
    const install = installId(stateFolder());
    if (install) own.installId = install;
    const machine = readTrimmed('/etc/machine-id');
    const boot = readTrimmed('/proc/sys/kernel/random/boot_id');
    const pidNamespace = readLink('/proc/self/ns/pid');
    const started = startTicks(process.pid);
    if (machine) own.machine = hashed(machine);
    if (boot) own.boot = hashed(boot);
    if (pidNamespace) own.pidNamespace = pidNamespace;
    if (started) own.started = started;
  }
  return own;
}

/**
 * `here` is this machine as the lock would show it; tests pass one to judge locks as another
 * platform would.
 */
export function holderState(
  lock: LockHolder,
  here: { host: string; identity: HolderIdentity } = { host: hostname(), identity: ownIdentity() },
): HolderState {
  const me = here.identity;
  const them = lock.holder ?? {};
  if (lock.host !== here.host || !me.installId || them.installId !== me.installId) return 'unknown';
  if (me.boot || them.boot) {
    // One side knows its boot and the other does not: not the same kind of system, so not this one.
    if (!me.boot || !them.boot) return 'unknown';
    if (me.boot !== them.boot) {
      // A machine that rebooted since; or another machine of the same name.
      return me.machine && me.machine === them.machine ? 'gone' : 'unknown';
    }
    if (me.pidNamespace !== them.pidNamespace) return 'unknown';
  }
  if (!isAlive(lock.pid)) return 'gone';
  if (them.started) {
    const started = startTicks(lock.pid);
    if (started && started !== them.started) return 'gone'; // the pid was reused
  }
  return 'running';
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat, read after the command name (which may hold spaces and parentheses). */
function startTicks(pid: number): string | undefined {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function hashed(id: string): string {
  return createHash('sha256').update(`twinvault-lock-holder:${id}`).digest('hex').slice(0, 24);
}

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
