import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX = pathToFileURL(
  fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url)),
).href;
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function onTerminal(args: string[], home: string): string {
  const command = [process.execPath, '--import', TSX, MAIN, ...args].map((a) => `'${a}'`).join(' ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_STATE_HOME: join(home, 'state'),
      XDG_DATA_HOME: join(home, 'data'),
    },
    encoding: 'utf8',
  });
  return result.stdout;
}

describe.skipIf(!hasScript)('progress bars', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinvault-tty-'));
    await mkdir(join(dir, 'src'));
    for (let i = 0; i < 50; i++) await writeFile(join(dir, 'src', `f${i}`), Buffer.alloc(64 * 1024, i));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are drawn on a terminal (files, bytes, rate, ETA) and not with --json', async () => {
    const repo = `file://${join(dir, 'repo')}`;
    onTerminal(['--repo', repo, 'init'], dir);
    const shown = onTerminal(['--repo', repo, 'backup', join(dir, 'src')], dir);
    expect(shown).toMatch(/backup .*100% \| 50 files \| 3\.13 MiB of 3\.13 MiB \| .*\/s \| ETA/);
    const json = onTerminal(
      ['--repo', repo, '--json', 'restore', 'latest', '--target', join(dir, 'out')],
      dir,
    );
    expect(json).not.toContain('ETA');
    expect(json).toContain('"restored": 50');
  });
});
