import {
  lstat,
  lutimes,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handmadeRepository } from '../../test/handmade-repository.js';
import type { Repository } from '../repository/repository.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import { restore } from './restore.js';

let dir: string;
let target: string;
let repository: Repository;
let snapshot: SnapshotRef;
const YEAR_2023 = new Date(Date.UTC(2023, 5, 1));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-overwrite-'));
  ({ repository, snapshot } = await handmadeRepository([
    { type: 'dir', path: 'src' },
    { type: 'file', path: 'src/newer.txt', content: 'snapshot version' },
    { type: 'file', path: 'src/older.txt', content: 'snapshot version' },
    { type: 'file', path: 'src/missing.txt', content: 'snapshot version' },
    { type: 'file', path: 'src/same.txt', content: 'same bytes' },
    { type: 'file', path: 'src/under-link.txt', content: 'snapshot version' },
    { type: 'symlink', path: 'src/link', target: 'newer.txt' },
  ]));
  // The target as a user left it after the backup: work done since, older copies, a copy with a
  // new time but the same bytes, a symlink where a file goes, and a newer symlink of their own.
  target = join(dir, 'target');
  await mkdir(join(target, 'src'), { recursive: true });
  await writeFile(join(target, 'src', 'newer.txt'), 'my work since the backup');
  await writeFile(join(target, 'src', 'older.txt'), 'an older local copy');
  await utimes(join(target, 'src', 'older.txt'), YEAR_2023, YEAR_2023);
  await writeFile(join(target, 'src', 'same.txt'), 'same bytes');
  await writeFile(join(dir, 'outside.txt'), 'outside the target');
  await symlink(join(dir, 'outside.txt'), join(target, 'src', 'under-link.txt'));
  await lutimes(join(target, 'src', 'under-link.txt'), YEAR_2023, YEAR_2023);
  await symlink('somewhere-else', join(target, 'src', 'link'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = (name: string) => readFile(join(target, 'src', name), 'utf8');

describe('restore into a folder that holds other versions of the files', () => {
  it('keeps local files newer than the snapshot by default, lists them, and replaces older ones', async () => {
    const summary = await restore({ repository, snapshot, target });
    expect(await read('newer.txt')).toBe('my work since the backup');
    expect(await readlink(join(target, 'src', 'link'))).toBe('somewhere-else');
    expect(summary.kept.map((kept) => [kept.path, kept.type])).toEqual([
      ['src/link', 'symlink'],
      ['src/newer.txt', 'file'],
    ]);
    expect(summary.kept[1]!.snapshotTime).toBe('2024-01-01T00:00:00.000Z');
    expect(Date.parse(summary.kept[1]!.localTime)).toBeGreaterThan(Date.parse('2024-01-02'));
    expect(await read('older.txt')).toBe('snapshot version');
    expect(await read('missing.txt')).toBe('snapshot version');
    // The symlink standing where a file goes was replaced, never written through.
    expect((await lstat(join(target, 'src', 'under-link.txt'))).isFile()).toBe(true);
    expect(await readFile(join(dir, 'outside.txt'), 'utf8')).toBe('outside the target');
    expect(summary.files).toEqual({
      restored: 3,
      replaced: 2,
      skippedIdentical: 1,
      skippedExisting: 0,
      keptNewer: 1,
    });
  });

  it('says in a dry run what it would restore, replace and keep, and changes nothing', async () => {
    const summary = await restore({ repository, snapshot, target, dryRun: true });
    expect(Object.fromEntries(summary.plan!.map((step) => [step.path, step.action]))).toEqual({
      src: 'restore',
      'src/link': 'keep-newer',
      'src/missing.txt': 'restore',
      'src/newer.txt': 'keep-newer',
      'src/older.txt': 'replace',
      'src/same.txt': 'skip-identical',
      'src/under-link.txt': 'replace',
    });
    expect(summary.kept.map((kept) => kept.path)).toEqual(['src/link', 'src/newer.txt']);
    expect(await read('newer.txt')).toBe('my work since the backup');
    expect(await read('older.txt')).toBe('an older local copy');
    await expect(read('missing.txt')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces newer local files too with "always" and "if-changed"', async () => {
    const always = await restore({ repository, snapshot, target, overwrite: 'always' });
    expect(always.kept).toEqual([]);
    expect(always.files).toMatchObject({ restored: 5, replaced: 4, skippedIdentical: 0 });
    expect(await read('newer.txt')).toBe('snapshot version');
    expect(await readlink(join(target, 'src', 'link'))).toBe('newer.txt');
    await writeFile(join(target, 'src', 'newer.txt'), 'newer again');
    const ifChanged = await restore({ repository, snapshot, target, overwrite: 'if-changed' });
    expect(ifChanged.kept).toEqual([]);
    expect(ifChanged.files).toMatchObject({ restored: 1, replaced: 1, skippedIdentical: 4 });
    expect(await read('newer.txt')).toBe('snapshot version');
  });

  it('leaves every existing file alone with "never", and keeps nothing it must report', async () => {
    const never = await restore({ repository, snapshot, target, overwrite: 'never' });
    expect(never.kept).toEqual([]);
    expect(never.files).toMatchObject({ restored: 1, skippedExisting: 4 });
    expect(await read('older.txt')).toBe('an older local copy');
  });

  it('repairs a file it restored before that was damaged since without a new time', async () => {
    await restore({ repository, snapshot, target, overwrite: 'always' });
    const info = await lstat(join(target, 'src', 'older.txt'));
    await writeFile(join(target, 'src', 'older.txt'), 'bit rot!!!!!!!!!');
    await utimes(join(target, 'src', 'older.txt'), info.atime, info.mtime);
    const again = await restore({ repository, snapshot, target });
    expect(again.kept).toEqual([]);
    expect(await read('older.txt')).toBe('snapshot version');
  });

  it('refuses a forged time that is no number, and shows one no date can hold as it is', async () => {
    const forged = await handmadeRepository([
      { type: 'file', path: 'src/newer.txt', content: 'x', mtime: 'not-a-time' },
    ]);
    await expect(restore({ ...forged, target })).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('"src/newer.txt"'),
    });
    const ancient = await handmadeRepository([
      { type: 'file', path: 'src/newer.txt', content: 'x', mtime: '-99999999999999999999999999' },
    ]);
    const summary = await restore({ ...ancient, target });
    expect(summary.kept).toEqual([
      expect.objectContaining({ path: 'src/newer.txt', snapshotTime: '-99999999999999999999999999 ns' }),
    ]);
  });
});
