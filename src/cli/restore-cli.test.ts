import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';

const ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const ESC = '\u001b';

let work: string;
let home: string;
let repo: string;
let source: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'twinvault-cli-restore-'));
  await chmod(work, 0o755);
  home = join(work, 'home');
  await mkdir(home);
  repo = `file://${join(work, 'repo')}`;
  source = join(work, 'docs');
  await mkdir(source);
  await writeFile(join(source, 'report.txt'), 'as backed up');
  await writeFile(join(source, 'notes.txt'), 'as backed up');
  await writeFile(join(source, `evil${ESC}]0;pwned${ESC}[2Jname.txt`), 'x');
  const old = new Date(Date.UTC(2024, 0, 1));
  for (const name of ['report.txt', 'notes.txt']) await utimes(join(source, name), old, old);
  expect((await cli(['init'])).code).toBe(0);
  expect((await cli(['backup', source, '--host', 'laptop', '--tag', `t${ESC}[31m`])).code).toBe(0);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const cli = (args: string[], extra: { uid?: number } = {}) =>
  runCli(['--repo', repo, ...args], { cwd: work, home, ...extra });

describe('restore from the command line: newer local files', () => {
  it('keeps a local file newer than the snapshot, lists it, exits 3; --overwrite always replaces it', async () => {
    const target = join(work, 'target-newer');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    await writeFile(join(target, 'docs', 'report.txt'), 'edited after the backup');
    await writeFile(join(target, 'docs', 'notes.txt'), 'an older copy');
    await utimes(
      join(target, 'docs', 'notes.txt'),
      new Date(Date.UTC(2023, 0, 1)),
      new Date(Date.UTC(2023, 0, 1)),
    );

    const dry = await cli(['restore', 'latest', '--target', target, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^keep \(newer\) +file +docs\/report\.txt$/m);
    expect(dry.stdout).toMatch(/^replace +file +docs\/notes\.txt$/m);
    expect(dry.stdout).toMatch(/^identical +file +docs\/evil/m);
    expect(dry.stdout).toContain('1 would be replaced');
    expect(await readFile(join(target, 'docs', 'notes.txt'), 'utf8')).toBe('an older copy');

    const kept = await cli(['restore', 'latest', '--target', target]);
    expect(kept.code).toBe(3);
    expect(kept.stdout).toMatch(
      /^kept docs\/report\.txt: the local copy \(.+\) is newer than the snapshot's \(2024-01-01T00:00:00\.000Z\)$/m,
    );
    expect(kept.stdout).toContain('--overwrite always replaces them');
    expect(await readFile(join(target, 'docs', 'report.txt'), 'utf8')).toBe('edited after the backup');
    expect(await readFile(join(target, 'docs', 'notes.txt'), 'utf8')).toBe('as backed up');
    const json = JSON.parse((await cli(['--json', 'restore', 'latest', '--target', target])).stdout);
    expect(json.kept).toEqual([expect.objectContaining({ path: 'docs/report.txt', type: 'file' })]);

    const always = await cli(['restore', 'latest', '--target', target, '--overwrite', 'always']);
    expect(always.code).toBe(0);
    expect(await readFile(join(target, 'docs', 'report.txt'), 'utf8')).toBe('as backed up');
  });

  it('refuses an unknown --overwrite mode, naming the valid ones', async () => {
    const result = await cli(['restore', 'latest', '--target', join(work, 'x'), '--overwrite', 'newer']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('never, keep-newer, if-changed, always');
  });
});

describe('restore from the command line: target problems are clear errors', () => {
  it('an existing file as --target', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'x');
    const result = await cli(['restore', 'latest', '--target', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot restore into ${file}: it is a file, not a folder`);
    expect(result.stderr).not.toContain('bug in twinvault');
  });

  it.skipIf(!ROOT)('a target the user may not create (EACCES, run as nobody)', async () => {
    // A copy of the repository that nobody owns, and a folder nobody may not write into.
    const theirs = join(work, 'repo-nobody');
    const theirHome = join(work, 'home-nobody');
    await mkdir(theirHome);
    expect(spawnSync('cp', ['-a', join(work, 'repo'), theirs]).status).toBe(0);
    expect(spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, theirs, theirHome]).status).toBe(0);
    const closed = join(work, 'closed');
    await mkdir(closed);
    await chmod(closed, 0o755);
    const target = join(closed, 'restored');
    const result = await runCli(['--repo', `file://${theirs}`, 'restore', 'latest', '--target', target], {
      cwd: work,
      home: theirHome,
      uid: NOBODY,
    });
    expect(result.stderr).toContain(`cannot create the restore target ${target}: permission denied`);
    expect(result.stderr).not.toContain('bug in twinvault');
    expect(result.code).toBe(1);
  });
});

describe('names with terminal control characters are printed escaped', () => {
  it('ls, snapshots, diff and restore --dry-run', async () => {
    const escaped = 'evil\\x1b]0;pwned\\x1b[2Jname.txt';
    const ls = await cli(['ls', 'latest']);
    expect(ls.stdout).toContain(escaped);
    const snapshots = await cli(['snapshots']);
    expect(snapshots.stdout).toContain('t\\x1b[31m');
    await writeFile(join(source, `new${ESC}[1m.txt`), 'y');
    expect((await cli(['backup', source, '--host', 'laptop'])).code).toBe(0);
    const list = JSON.parse((await cli(['--json', 'snapshots'])).stdout) as Array<{ id: string }>;
    const diff = await cli(['diff', list[0]!.id, list[1]!.id]);
    expect(diff.stdout).toContain('+ docs/new\\x1b[1m.txt');
    const dry = await cli(['restore', 'latest', '--target', join(work, 'dry'), '--dry-run']);
    expect(dry.stdout).toContain(escaped);
    for (const output of [ls.stdout, snapshots.stdout, diff.stdout, dry.stdout])
      expect(output).not.toContain(ESC);
  });
});
