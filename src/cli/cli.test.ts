import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { buildProgram } from './program.js';

let home: string;
let cwd: string;
const cli = (args: string[], env?: NodeJS.ProcessEnv) => runCli(args, { cwd, home, ...(env ? { env } : {}) });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'twinvault-cli-home-'));
  cwd = await mkdtemp(join(tmpdir(), 'twinvault-cli-cwd-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
});

describe('twinvault CLI', () => {
  it('prints help and version', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: twinvault');
    expect(help.stdout).toContain('config');
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('has --help on every command, showing the global options', async () => {
    const paths: string[][] = [];
    const walk = (command: ReturnType<typeof buildProgram>, path: string[]) => {
      for (const sub of command.commands) {
        paths.push([...path, sub.name()]);
        walk(sub, [...path, sub.name()]);
      }
    };
    walk(buildProgram(), []);
    expect(paths).toContainEqual(['config', 'check']);
    for (const path of paths) {
      const result = await cli([...path, '--help']);
      expect(result.code, path.join(' ')).toBe(0);
      expect(result.stdout).toContain(`Usage: twinvault ${path.join(' ')}`);
      if (path.length > 1) expect(result.stdout).toContain('--repo');
    }
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const option = await cli(['config', 'check', '--frobnicate']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--frobnicate'");
  });

  it('checks the default config on a fresh machine and says where the repository is', async () => {
    const result = await cli(['config', 'check']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`repository:  file://${home}/.local/share/twinvault/repository`);
    expect(result.stdout).toContain('the built-in default');
    expect(result.stdout).toContain('config is valid');
  });

  it('prints the resolved config as JSON with secrets redacted', async () => {
    const file = join(cwd, 'secret.json');
    await writeFile(
      file,
      JSON.stringify({
        repository: {
          url: 's3://bucket/p',
          accessKeyId: 'AKIAABCDEFGH1234',
          secretAccessKey: 'super-secret-value',
        },
        sources: [{ path: cwd }],
      }),
    );
    const result = await cli(['--json', '--config', file, 'config', 'check']);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed).toMatchObject({
      valid: true,
      configFile: file,
      repository: { url: 's3://bucket/p', accessKeyId: '***1234', secretAccessKey: '***' },
      sources: [{ path: cwd }],
    });
    expect(result.stdout + result.stderr).not.toContain('super-secret-value');
  });

  it('lets --repo and TWINVAULT_REPOSITORY override the file', async () => {
    const file = join(cwd, 'plain.json');
    await writeFile(file, '{"repository": "s3://from-file/p"}');
    const env = await cli(['--json', '--config', file, 'config', 'check'], {
      TWINVAULT_REPOSITORY: 's3://from-env/p',
    });
    expect(JSON.parse(env.stdout)).toMatchObject({
      repository: { url: 's3://from-env/p' },
      repositoryOrigin: 'environment',
    });
    const flag = await cli(['--json', '--config', file, '--repo', 's3://from-flag/p', 'config', 'check'], {
      TWINVAULT_REPOSITORY: 's3://from-env/p',
    });
    expect(JSON.parse(flag.stdout)).toMatchObject({
      repository: { url: 's3://from-flag/p' },
      repositoryOrigin: 'flag',
    });
  });

  it('exits 2 with file, line and column for a malformed config', async () => {
    const file = join(cwd, 'broken.json');
    await writeFile(file, '{"repository": "s3://b/p",\n "sources": [}');
    const result = await cli(['--config', file, 'config', 'check']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`twinvault: ${file}:2:14: not valid JSON`);
    expect(result.stderr).toContain('hint:');
  });

  it('reports errors as one JSON object on stderr with --json', async () => {
    const file = join(cwd, 'typo.json');
    await writeFile(file, '{"sorces": []}');
    const result = await cli(['--json', '--config', file, 'config', 'check']);
    expect(result.code).toBe(2);
    const error = JSON.parse(result.stderr).error;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('unknown key "sorces"; did you mean "sources"?');
  });

  it('with --connect, reports a repository location that is a file', async () => {
    const notAFolder = join(cwd, 'not-a-folder');
    await writeFile(notAFolder, 'x');
    const result = await cli(['--repo', `file://${notAFolder}`, 'config', 'check', '--connect']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`repository location ${notAFolder} is a file, not a folder`);
  });

  it('prints the config JSON Schema', async () => {
    const result = await cli(['config', 'schema']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).properties).toHaveProperty('repository');
  });

  it('prints the agent service for a config, and says why it cannot without one', async () => {
    const config = join(cwd, 'service-config.json');
    await writeFile(config, JSON.stringify({ sources: [{ path: cwd }] }));
    const unit = await cli(['--config', config, 'service', 'print', '--kind', 'systemd-user']);
    expect(unit.code).toBe(0);
    expect(unit.stdout).toContain(`"--config" "${config}" "agent"`);
    expect(unit.stdout).toContain('WantedBy=default.target');
    const none = await cli(['service', 'print']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('the agent service needs a config file');
    const wrong = await cli(['--config', config, 'service', 'print', '--kind', 'upstart']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown service kind "upstart"');
  });
});
