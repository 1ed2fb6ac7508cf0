import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TwinvaultError, UsageError } from '../errors.js';
import { type AgentCommand, LABEL, render, type ServiceKind, serviceName } from './units.js';

export interface ServiceHost {
  home: string;
  /** $XDG_CONFIG_HOME, if set. */
  configHome?: string | undefined;
  /** Runs a program; `input` goes to its stdin. Rejects when it cannot start or exits non-zero. */
  run(program: string, args: string[], input?: string): Promise<string>;
}

export class ServiceError extends TwinvaultError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super('LOCAL_PATH', message, { ...(hint ? { hint } : {}), ...(cause ? { cause } : {}) });
  }
}

/** Where each kind's file goes (cron and Task Scheduler keep theirs themselves). */
export function serviceFile(kind: ServiceKind, command: AgentCommand, host: ServiceHost): string | undefined {
  const name = serviceName(command);
  switch (kind) {
    case 'systemd-user':
      return join(host.configHome || join(host.home, '.config'), 'systemd', 'user', `${name}.service`);
    case 'systemd':
      return `/etc/systemd/system/${name}.service`;
    case 'launchd':
      return join(host.home, 'Library', 'LaunchAgents', `${LABEL}.${command.id}.plist`);
    default:
      return undefined;
  }
}

/** Installs and starts the service; returns what was done, for the user. */
export async function installService(
  kind: ServiceKind,
  command: AgentCommand,
  host: ServiceHost,
): Promise<string[]> {
  const name = serviceName(command);
  const text = render(kind, command);
  const file = serviceFile(kind, command, host);
  if (file) await writeServiceFile(file, text, kind);
  switch (kind) {
    case 'systemd-user':
      await host.run('systemctl', ['--user', 'daemon-reload']);
      await host.run('systemctl', ['--user', 'enable', '--now', `${name}.service`]);
      return [`wrote ${file}`, `enabled and started ${name}.service (systemctl --user status ${name})`];
    case 'systemd':
      await host.run('systemctl', ['daemon-reload']);
      await host.run('systemctl', ['enable', '--now', `${name}.service`]);
      return [`wrote ${file}`, `enabled and started ${name}.service (systemctl status ${name})`];
    case 'cron': {
      const kept = withoutOurLines(await currentCrontab(host), name);
      await host.run('crontab', ['-'], kept + text);
      return [`added the agent to your crontab (at boot, and every 15 minutes if it is not running)`];
    }
    case 'launchd':
      await host.run('launchctl', ['load', '-w', file!]);
      return [`wrote ${file}`, `loaded ${LABEL}.${command.id} (launchctl list | grep twinvault)`];
    case 'windows-task': {
      const xml = join(tmpdir(), `${name}.xml`);
      await writeFile(xml, text);
      try {
        // /RU and /RP * : runs whether the user is logged on or not; schtasks asks for the password.
        await host.run('schtasks', [
          '/Create',
          '/TN',
          name,
          '/XML',
          xml,
          '/RU',
          process.env.USERNAME ?? '',
          '/RP',
          '*',
          '/F',
        ]);
      } finally {
        await rm(xml, { force: true });
      }
      return [`created the scheduled task ${name} (starts at boot)`];
    }
  }
}

export async function uninstallService(
  kind: ServiceKind,
  command: AgentCommand,
  host: ServiceHost,
): Promise<string[]> {
  const name = serviceName(command);
  const file = serviceFile(kind, command, host);
  switch (kind) {
    case 'systemd-user':
    case 'systemd': {
      const user = kind === 'systemd-user' ? ['--user'] : [];
      await host.run('systemctl', [...user, 'disable', '--now', `${name}.service`]).catch(() => {});
      await rm(file!, { force: true });
      await host.run('systemctl', [...user, 'daemon-reload']);
      return [`stopped and removed ${name}.service (${file})`];
    }
    case 'cron':
      await host.run('crontab', ['-'], withoutOurLines(await currentCrontab(host), name));
      return ['removed the agent from your crontab'];
    case 'launchd':
      await host.run('launchctl', ['unload', '-w', file!]).catch(() => {});
      await rm(file!, { force: true });
      return [`unloaded and removed ${file}`];
    case 'windows-task':
      await host.run('schtasks', ['/Delete', '/TN', name, '/F']);
      return [`deleted the scheduled task ${name}`];
  }
}

async function writeServiceFile(file: string, text: string, kind: ServiceKind): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  } catch (err) {
    const denied = ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');
    throw new ServiceError(
      `cannot write ${file}: ${(err as Error).message}`,
      denied && kind === 'systemd'
        ? 'a system service needs root (sudo), or use --kind systemd-user'
        : undefined,
      err,
    );
  }
}

/** The user's crontab; none yet is an empty one (crontab -l then fails with "no crontab"). */
async function currentCrontab(host: ServiceHost): Promise<string> {
  try {
    return await host.run('crontab', ['-l']);
  } catch (err) {
    if (/no crontab/i.test((err as Error).message)) return '';
    throw err;
  }
}

function withoutOurLines(crontab: string, name: string): string {
  const lines = crontab.split('\n').filter((line) => line !== '' && !line.endsWith(`# ${name}`));
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Runs programs for real: a missing one is named with what to do instead. */
export function systemHost(): ServiceHost {
  return {
    home: process.env.HOME ?? process.env.USERPROFILE ?? '',
    configHome: process.env.XDG_CONFIG_HOME,
    run: (program, args, input) =>
      new Promise((resolve, reject) => {
        if (program === 'schtasks') {
          const child = spawn(program, args, { stdio: 'inherit' }); // it may ask for a password
          child.on('error', (err) => reject(missing(program, err)));
          child.on('exit', (code) =>
            code === 0 ? resolve('') : reject(new ServiceError(`${program} failed (exit ${code})`)),
          );
          return;
        }
        const child = execFile(program, args, (err, stdout, stderr) => {
          if (!err) resolve(stdout);
          else if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(missing(program, err));
          else
            reject(
              new ServiceError(
                `${program} ${args.join(' ')} failed: ${stderr.trim() || err.message}`,
                undefined,
                err,
              ),
            );
        });
        if (input !== undefined) child.stdin?.end(input);
      }),
  };
}

function missing(program: string, cause: unknown): Error {
  return new UsageError(`${program} was not found on this machine`, {
    hint: 'choose the --kind of service this system has (systemd-user, systemd, cron, launchd, windows-task)',
    cause,
  });
}
