import { createHash } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TwinvaultError } from '../errors.js';
import { makePrivateFolder, PRIVATE_FILE } from '../fs/private-files.js';

/**
 * Where one config's agent keeps its pid lock and its state: one agent per config file, so the
 * names come from the config's path. `twinvault status` finds them the same way.
 */
export function agentFiles(stateFolder: string, configFile: string | undefined) {
  const id = configId(configFile);
  const folder = join(stateFolder, 'agent');
  return {
    folder,
    pid: join(folder, `${id}.pid`),
    state: join(folder, `${id}.state.json`),
    log: join(folder, `${id}.log`),
    alerts: join(folder, `${id}.alerts.json`),
    /** The overdue-backup watch's (it runs in a process of its own). */
    overdueAlerts: join(folder, `${id}.overdue.json`),
  };
}

/** A short name for a config file, from its path: its agent's files and service are named by it. */
export function configId(configFile: string | undefined): string {
  return createHash('sha256')
    .update(configFile ?? '(no config file)')
    .digest('hex')
    .slice(0, 12);
}

export class AgentRunningError extends TwinvaultError {
  constructor(pid: number, pidFile: string) {
    super(
      'ALREADY_EXISTS',
      `an agent for this config is already running (pid ${pid}, lock file ${pidFile})`,
      {
        hint: `stop it first (kill ${pid}), or give the other agent a different --config`,
      },
    );
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes the pid lock. The file appears with its content at once (written aside, then hard-linked
 * into place, which fails if it exists), so no one ever reads an empty lock. A lock whose process
 * is gone (a crash, a SIGKILL) is taken over.
 */
export async function takePidLock(pidFile: string): Promise<{ release(): Promise<void> }> {
  await makePrivateFolder(join(pidFile, '..'));
  const temp = `${pidFile}.${process.pid}.tmp`;
  await writeFile(temp, `${process.pid}\n`, { mode: PRIVATE_FILE });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, pidFile);
        return { release: () => rm(pidFile, { force: true }) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
        const holder = await readPid(pidFile);
        if (holder !== undefined && holder !== process.pid && isAlive(holder))
          throw new AgentRunningError(holder, pidFile);
        await rm(pidFile, { force: true }); // stale: its agent is gone
      }
    }
  } finally {
    await rm(temp, { force: true });
  }
}
