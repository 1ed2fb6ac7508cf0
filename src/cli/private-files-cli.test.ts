import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { modesBelow, notPrivate } from '../../test/modes.js';

let work: string;
let home: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'twinvault-cli-private-'));
  home = join(work, 'home');
  await mkdir(home);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The CLI with a umask of its own (a child inherits its parent's). */
async function cliWithUmask(mask: number, args: string[]) {
  const before = process.umask(mask);
  try {
    return await runCli(args, { cwd: work, home });
  } finally {
    process.umask(before);
  }
}

describe('what the CLI writes on the machine is private to its user (DESIGN invariant 9)', () => {
  it('a first backup into the default repository, with umask 000: repository, caches, everything', async () => {
    const source = join(work, 'docs');
    await mkdir(source);
    await writeFile(join(source, 'secret.txt'), 'only mine', { mode: 0o600 });
    const result = await cliWithUmask(0o000, ['backup', source]);
    expect(result.code).toBe(0);
    const data = await modesBelow(join(home, '.local', 'share', 'twinvault'));
    const state = await modesBelow(join(home, '.local', 'state', 'twinvault'));
    expect(data.some((line) => line.endsWith('secret.txt 0600'))).toBe(true);
    expect(state.some((line) => line.startsWith('./index/'))).toBe(true);
    expect(notPrivate([...data, ...state])).toEqual([]);
  });

  it("closes an older version's folders and files when it starts, two levels into the state folder", async () => {
    const state = join(home, '.local', 'state', 'twinvault');
    await mkdir(join(state, 'agent'), { recursive: true });
    await writeFile(join(state, 'agent', 'abc.state.json'), '{}');
    // What an older version left: everything readable by all.
    spawnSync('chmod', ['-R', 'go+rX', join(home, '.local')]);
    expect(notPrivate(await modesBelow(state))).not.toEqual([]);
    const result = await cliWithUmask(0o022, ['snapshots']);
    expect(result.code).toBe(0);
    const after = await modesBelow(state);
    expect(after).toContain('. 0700');
    expect(after).toContain('./agent 0700');
    expect(after).toContain('./agent/abc.state.json 0600');
    expect(after.filter((line) => /^\.\/index\/[^/]+ /.test(line))).toEqual([
      expect.stringMatching(/ 0700$/),
    ]);
    const repository = await modesBelow(join(home, '.local', 'share', 'twinvault'));
    expect(repository).toContain('. 0700');
    expect(repository).toContain('./repository 0700');
    expect(repository).toContain('./repository/.twinvault 0700');
    expect(repository).toContain('./repository/.twinvault/config.json 0600');
  });
});
