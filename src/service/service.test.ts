import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installService, type ServiceHost, serviceFile, uninstallService } from './install.js';
import { type AgentCommand, render } from './units.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-service-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Awkward on purpose: spaces, quotes, $, % and & must survive each format's quoting.
const command = (): AgentCommand => ({
  node: process.execPath,
  script: '/opt/twin vault/dist/twinvault.js',
  configFile: `${dir}/my "configs"/twin$vault 100%&.json`,
  id: 'abcd1234',
  env: { XDG_STATE_HOME: '/home/me/state dir', AWS_PROFILE: 'backup' },
});

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('service definitions', () => {
  it.skipIf(!hasSystemdAnalyze)(
    'systemd units pass systemd-analyze verify, with the exact command line',
    async () => {
      for (const kind of ['systemd', 'systemd-user'] as const) {
        const file = join(dir, `twinvault-agent-${kind}.service`);
        await writeFile(file, render(kind, command()));
        const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
        expect(result.status).toBe(0);
        expect(result.stderr).not.toContain(file); // no complaint about any line of it
      }
      const unit = render('systemd', command());
      expect(unit).toContain(
        `ExecStart="${process.execPath}" "/opt/twin vault/dist/twinvault.js" "--config" "${dir}/my \\"configs\\"/twin$$vault 100%%&.json" "agent"`,
      );
      expect(unit).toContain('Environment="XDG_STATE_HOME=/home/me/state dir"');
    },
  );

  it('launchd plist is well-formed XML with the arguments as separate strings', () => {
    const text = render('launchd', command());
    expect(XMLValidator.validate(text)).toBe(true);
    const plist = new XMLParser().parse(text).plist.dict;
    expect(plist.array.string).toEqual(
      [process.execPath, command().script, command().configFile, 'agent'].flatMap((word, i) =>
        i === 2 ? ['--config', word] : [word],
      ),
    );
    expect(text).toContain('<key>RunAtLoad</key>\n    <true/>');
  });

  it('the Windows task is well-formed XML that starts at boot, logged on or not', () => {
    const text = render('windows-task', command());
    expect(XMLValidator.validate(text)).toBe(true);
    const task = new XMLParser().parse(text).Task;
    expect(task.Triggers.BootTrigger.Enabled).toBe(true);
    expect(task.Principals.Principal.LogonType).toBe('Password');
    expect(task.Actions.Exec.Command).toBe(process.execPath);
    expect(task.Actions.Exec.Arguments).toBe(
      `"/opt/twin vault/dist/twinvault.js" --config "${dir}/my \\"configs\\"/twin$vault 100%&.json" agent`,
    );
  });

  it('the cron lines run the exact command under sh', async () => {
    const text = render('cron', command());
    const lines = text.trim().split('\n');
    expect(lines[0]!.startsWith('@reboot ')).toBe(true);
    expect(lines[1]!.startsWith('*/15 * * * * ')).toBe(true);
    // What sh makes of the line, with the program swapped for one that prints its arguments.
    const line = lines[0]!
      .slice('@reboot '.length)
      .replace(/\\%/g, '%') // what cron does before handing the line to sh
      .replace(`'${process.execPath}'`, 'show')
      .replace(/ >\/dev\/null 2>&1 # .*$/, '');
    const printed = execFileSync('sh', ['-c', `show() { printf '%s\\n' "$XDG_STATE_HOME" "$@"; }; ${line}`], {
      encoding: 'utf8',
    });
    expect(printed.trim().split('\n')).toEqual([
      '/home/me/state dir',
      command().script,
      '--config',
      command().configFile,
      'agent',
      '--quiet',
    ]);
  });
});

describe('installing and uninstalling', () => {
  function recordingHost(crontab = '') {
    const calls: string[] = [];
    let table = crontab;
    const host: ServiceHost = {
      home: join(dir, 'home'),
      run: async (program, args, input) => {
        calls.push([program, ...args].join(' '));
        if (program === 'crontab' && args[0] === '-l') {
          if (table === '') throw new Error('no crontab for me');
          return table;
        }
        if (program === 'crontab' && args[0] === '-') table = input ?? '';
        return '';
      },
    };
    return { host, calls, crontab: () => table };
  }

  it('systemd-user: writes the unit, enables and starts it; uninstall undoes it', async () => {
    const { host, calls } = recordingHost();
    await installService('systemd-user', command(), host);
    const file = serviceFile('systemd-user', command(), host)!;
    expect(file).toBe(join(dir, 'home', '.config', 'systemd', 'user', 'twinvault-agent-abcd1234.service'));
    expect(await readFile(file, 'utf8')).toBe(render('systemd-user', command()));
    expect(calls).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now twinvault-agent-abcd1234.service',
    ]);
    await uninstallService('systemd-user', command(), host);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(calls.slice(2)).toEqual([
      'systemctl --user disable --now twinvault-agent-abcd1234.service',
      'systemctl --user daemon-reload',
    ]);
  });

  it("cron: adds its lines once, keeps the user's own, and removes only its own", async () => {
    const { host, crontab } = recordingHost('0 3 * * * /usr/bin/backup-photos\n');
    await installService('cron', command(), host);
    await installService('cron', command(), host); // again: replaced, not doubled
    expect(crontab()).toBe(`0 3 * * * /usr/bin/backup-photos\n${render('cron', command())}`);
    await uninstallService('cron', command(), host);
    expect(crontab()).toBe('0 3 * * * /usr/bin/backup-photos\n');
  });
});
