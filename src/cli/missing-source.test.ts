import { chmod, chown, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { describeTree } from '../../test/tree.js';

const ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

let home: string;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'twinvault-cli-missing-'));
  home = join(work, 'home');
  await mkdir(home);
  await chmod(work, 0o755);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const cli = (args: string[], extra: { uid?: number } = {}) => runCli(args, { cwd: work, home, ...extra });
const snapshots = async (repo: string) =>
  JSON.parse((await cli(['--repo', repo, '--json', 'snapshots'])).stdout) as Array<{ id: string }>;

describe('a source folder that is not there', () => {
  it('fails the backup and writes no snapshot, so forget --keep-last 2 --prune keeps the real one', async () => {
    const source = join(work, 'usb-disk');
    await mkdir(source);
    await writeFile(join(source, 'thesis.txt'), 'four years of work');
    const repo = `file://${join(work, 'repo-forget')}`;
    expect((await cli(['--repo', repo, 'init'])).code).toBe(0);
    expect((await cli(['--repo', repo, 'backup', source])).code).toBe(0);
    const kept = await describeTree(source);

    // The disk is unplugged: two scheduled backups run meanwhile.
    await rename(source, `${source}-unplugged`);
    for (let i = 0; i < 2; i++) {
      const run = await cli(['--repo', repo, 'backup', source]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(source);
    }
    expect(await snapshots(repo)).toHaveLength(1);

    expect((await cli(['--repo', repo, 'forget', '--keep-last', '2', '--prune'])).code).toBe(0);
    const target = join(work, 'restored-forget');
    expect((await cli(['--repo', repo, 'restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'usb-disk'))).toEqual(kept);
  });

  it('fails for an emptied folder (a mount point without its disk), so forget --keep-last 1 keeps the real snapshot', async () => {
    const source = join(work, 'media-disk');
    await mkdir(source);
    await writeFile(join(source, 'thesis.txt'), 'four years of work');
    await writeFile(join(source, 'data.csv'), '1,2,3');
    const repo = `file://${join(work, 'repo-emptied')}`;
    expect((await cli(['--repo', repo, 'init'])).code).toBe(0);
    expect((await cli(['--repo', repo, 'backup', source])).code).toBe(0);
    const kept = await describeTree(source);

    // The disk is not mounted: its mount point is an empty folder.
    await rename(source, `${source}-unmounted`);
    await mkdir(source);
    const run = await cli(['--repo', repo, 'backup', source]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the source folder ${source} is empty, but its last snapshot`);
    expect(run.stderr).toContain('held 2 files');
    expect(run.stderr).toContain('--allow-empty');
    expect(await snapshots(repo)).toHaveLength(1);

    expect((await cli(['--repo', repo, 'forget', '--keep-last', '1', '--prune'])).code).toBe(0);
    const target = join(work, 'restored-emptied');
    expect((await cli(['--repo', repo, 'restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'media-disk'))).toEqual(kept);

    // Emptied on purpose: --allow-empty backs it up, and later runs take it as it is.
    expect((await cli(['--repo', repo, 'backup', '--allow-empty', source])).code).toBe(0);
    expect((await cli(['--repo', repo, 'backup', source])).code).toBe(0);
    expect(await snapshots(repo)).toHaveLength(3);
  });

  it('fails when one source of several is missing or is a file, naming each, and writes nothing', async () => {
    const fine = join(work, 'fine');
    await mkdir(fine);
    await writeFile(join(fine, 'a.txt'), 'a');
    const file = join(work, 'notes.txt');
    await writeFile(file, 'a file, not a folder');
    const missing = join(work, 'typo-in-the-name');
    const repo = `file://${join(work, 'repo-several')}`;
    expect((await cli(['--repo', repo, 'init'])).code).toBe(0);
    const run = await cli(['--repo', repo, '--json', 'backup', fine, file, missing]);
    expect(run.code).toBe(1);
    const error = JSON.parse(run.stderr).error;
    expect(error.code).toBe('LOCAL_PATH');
    expect(error.message).toContain(`${file} is not a folder`);
    expect(error.message).toContain(missing);
    expect(error.message).not.toContain(fine);
    expect(await snapshots(repo)).toHaveLength(0);
  });

  it.runIf(ROOT)('fails for a source folder the user cannot read', async () => {
    const locked = join(work, 'locked');
    await mkdir(locked);
    await writeFile(join(locked, 'a.txt'), 'a');
    await chmod(locked, 0o700);
    const repoDir = join(work, 'repo-locked');
    await mkdir(repoDir);
    await chown(repoDir, NOBODY, NOBODY);
    await chown(home, NOBODY, NOBODY);
    const repo = `file://${repoDir}`;
    expect((await cli(['--repo', repo, 'init'], { uid: NOBODY })).code).toBe(0);
    const run = await cli(['--repo', repo, 'backup', locked], { uid: NOBODY });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot read the source folder ${locked}: permission denied`);
    await chown(home, 0, 0);
    expect(await snapshots(repo)).toHaveLength(0);
  });
});
