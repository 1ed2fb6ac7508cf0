import { spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handmadeRepository } from '../../test/handmade-repository.js';
import { restore } from './restore.js';

const ROOT = process.getuid?.() === 0;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-restore-errors-'));
});
afterEach(async () => {
  spawnSync('chattr', ['-i', join(dir, 'locked')]);
  await rm(dir, { recursive: true, force: true });
});

const simple = () =>
  handmadeRepository([
    { type: 'dir', path: 'src' },
    { type: 'file', path: 'src/a.txt', content: 'a' },
    { type: 'dir', path: 'src/folder' },
    { type: 'file', path: 'src/folder/b.txt', content: 'b' },
    { type: 'symlink', path: 'src/link', target: 'a.txt' },
  ]);

/** A clear, typed error naming the path: never "a bug in twinvault" (an untyped error). */
const localPathError = (...parts: string[]) => ({
  code: 'LOCAL_PATH',
  message: expect.stringMatching(
    new RegExp(parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')),
  ),
});

describe('restore: problems with the target are clear errors that name the path', () => {
  it('an existing file given as --target, in a real and in a dry run', async () => {
    const { repository, snapshot } = await simple();
    const target = join(dir, 'a-file');
    await writeFile(target, 'not a folder');
    for (const dryRun of [false, true]) {
      await expect(restore({ repository, snapshot, target, dryRun })).rejects.toMatchObject(
        localPathError(target, 'is a file, not a folder'),
      );
    }
  });

  it('a target below a folder the user may not write', async () => {
    const { repository, snapshot } = await simple();
    const locked = join(dir, 'locked');
    await mkdir(locked);
    // Root ignores modes: an immutable folder refuses even root (EPERM, as EACCES for a user).
    if (ROOT) expect(spawnSync('chattr', ['+i', locked]).status).toBe(0);
    else spawnSync('chmod', ['555', locked]);
    const target = join(locked, 'restored');
    await expect(restore({ repository, snapshot, target })).rejects.toMatchObject(
      localPathError(target, 'permission denied'),
    );
  });

  it('a folder where a file goes, a file where a folder goes, a folder where a symlink goes', async () => {
    const { repository, snapshot } = await simple();
    const folderForFile = join(dir, 'folder-for-file');
    await mkdir(join(folderForFile, 'src', 'a.txt'), { recursive: true });
    await expect(restore({ repository, snapshot, target: folderForFile })).rejects.toMatchObject(
      localPathError('src/a.txt', 'a folder stands at', join(folderForFile, 'src', 'a.txt')),
    );
    const fileForFolder = join(dir, 'file-for-folder');
    await mkdir(join(fileForFolder, 'src'), { recursive: true });
    await writeFile(join(fileForFolder, 'src', 'folder'), 'a file');
    await expect(restore({ repository, snapshot, target: fileForFolder })).rejects.toMatchObject(
      localPathError('src/folder', join(fileForFolder, 'src', 'folder'), 'exists and is not a folder'),
    );
    const folderForLink = join(dir, 'folder-for-symlink');
    await mkdir(join(folderForLink, 'src', 'link', 'x'), { recursive: true });
    await expect(restore({ repository, snapshot, target: folderForLink })).rejects.toMatchObject(
      localPathError('src/link', 'a folder stands at', join(folderForLink, 'src', 'link')),
    );
  });
});

/** A tiny tmpfs to fill (root only; where mounting is refused, e.g. without CAP_SYS_ADMIN, skipped). */
function mountTinyDisk(path: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', path]).status === 0;
}

describe('restore onto a full disk', () => {
  let disk: string;
  let mounted = false;
  beforeEach(async () => {
    disk = join(dir, 'disk');
    await mkdir(disk);
    mounted = ROOT && mountTinyDisk(disk);
    if (!mounted)
      console.warn('!!! no tmpfs could be mounted (not root?): the full-disk restore is not tested');
  });
  afterEach(() => {
    if (mounted) spawnSync('umount', [disk]);
  });

  it('says the disk is full, names the file, and leaves no temporary file', async ({ skip }) => {
    if (!mounted) skip();
    const { repository, snapshot } = await handmadeRepository([
      { type: 'file', path: 'src/small.txt', content: 'fits' },
      { type: 'file', path: 'src/large.bin', content: 'x'.repeat(200 * 1024) },
    ]);
    const target = join(disk, 'restored');
    await expect(restore({ repository, snapshot, target, concurrency: 1 })).rejects.toMatchObject({
      ...localPathError(join(target, 'src', 'large.bin'), 'no space left on the device'),
      hint: expect.stringContaining('a second run skips them'),
    });
    expect(
      (await readdir(join(target, 'src'))).filter((name) => name.startsWith('.twinvault-restore-')),
    ).toEqual([]);
  });
});

describe('restore and set-id bits', () => {
  const setIdSnapshot = () =>
    handmadeRepository([
      { type: 'dir', path: 'src', mode: 0o2775 },
      { type: 'file', path: 'src/tool', content: '#!/bin/sh\n', mode: 0o4755, uid: 65534, gid: 65534 },
      { type: 'file', path: 'src/group-tool', content: '#!/bin/sh\n', mode: 0o2711 },
      { type: 'dir', path: 'src/tmp', mode: 0o1777 },
    ]);

  it('clears set-uid and set-gid bits by default, keeps the sticky bit, and says which', async () => {
    const { repository, snapshot } = await setIdSnapshot();
    const target = join(dir, 'plain');
    const summary = await restore({ repository, snapshot, target });
    const mode = async (path: string) => (await lstat(join(target, path))).mode & 0o7777;
    expect(await mode('src/tool')).toBe(0o755);
    expect(await mode('src/group-tool')).toBe(0o711);
    expect(await mode('src')).toBe(0o775);
    expect(await mode('src/tmp')).toBe(0o1777);
    expect(summary.setIdCleared.sort()).toEqual(['src', 'src/group-tool', 'src/tool']);
    if (ROOT) expect((await stat(join(target, 'src', 'tool'))).uid).toBe(65534); // owners kept, as tar does
  });

  it('clears them on a file already there too (identical content, metadata set again)', async () => {
    const { repository, snapshot } = await setIdSnapshot();
    const target = join(dir, 'again');
    await restore({ repository, snapshot, target, keepSetid: true });
    expect((await lstat(join(target, 'src', 'tool'))).mode & 0o7777).toBe(0o4755);
    const again = await restore({ repository, snapshot, target });
    expect(again.files.skippedIdentical).toBe(2);
    expect((await lstat(join(target, 'src', 'tool'))).mode & 0o7777).toBe(0o755);
  });

  it('restores them when asked (--keep-setid)', async () => {
    const { repository, snapshot } = await setIdSnapshot();
    const target = join(dir, 'kept');
    const summary = await restore({ repository, snapshot, target, keepSetid: true });
    expect((await lstat(join(target, 'src', 'tool'))).mode & 0o7777).toBe(0o4755);
    expect((await lstat(join(target, 'src'))).mode & 0o7777).toBe(0o2775);
    expect(summary.setIdCleared).toEqual([]);
  });
});
