import { chmod, link, mkdir, mkdtemp, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTree } from '../../test/tree.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ManualClock } from '../clock.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { backup } from './backup.js';

let dir: string;
let source: string;
let state: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-backup-'));
  source = join(dir, 'Documents');
  state = join(dir, 'state');
  await mkdir(source);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const backend = new CountingBackend(new MemoryBackend());
  // An hour ahead of the files' real times, so none of them counts as just modified (racy).
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const repository = await initRepository(backend, { clock });
  const run = (extra: Partial<Parameters<typeof backup>[0]> = {}) => {
    clock.advance(60_000);
    return backup({
      repository,
      sources: [{ path: source }],
      host: 'laptop',
      stateFolder: state,
      clock,
      ...extra,
    });
  };
  const restoreLatest = async (target: string, extra: Partial<Parameters<typeof restore>[0]> = {}) => {
    const refs = await listSnapshots(backend);
    return restore({ repository, snapshot: refs.at(-1)!, target, ...extra });
  };
  return { backend, clock, repository, run, restoreLatest };
}

describe('backup and restore', () => {
  it('round-trips files, empty folders, symlinks, hard links, modes and times exactly', async () => {
    await writeFile(join(source, 'report.txt'), 'quarterly numbers');
    await mkdir(join(source, 'empty folder'));
    await mkdir(join(source, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(source, 'sub', 'deeper', 'script.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(source, 'sub', 'deeper', 'script.sh'), 0o750);
    await symlink('../report.txt', join(source, 'sub', 'link-to-report'));
    await symlink('/nonexistent/target', join(source, 'dangling'));
    await link(join(source, 'report.txt'), join(source, 'hardlink.txt'));
    await writeFile(join(source, 'naïve café ☕.txt'), 'unicode name');
    await utimes(
      join(source, 'report.txt'),
      new Date('2020-01-02T03:04:05Z'),
      new Date('2020-01-02T03:04:05Z'),
    );

    const { run, restoreLatest } = await setup();
    const summary = await run();
    expect(summary.files).toEqual({ new: 4, changed: 0, unchanged: 0, skipped: 0 });
    expect(summary.symlinks).toBe(2);

    const target = join(dir, 'restored');
    await restoreLatest(target);
    expect(await describeTree(join(target, 'Documents'), { times: true })).toEqual(
      await describeTree(source, { times: true }),
    );
    const [a, b] = await Promise.all([
      stat(join(target, 'Documents', 'report.txt')),
      stat(join(target, 'Documents', 'hardlink.txt')),
    ]);
    expect(a.ino).toBe(b.ino);
  });

  it('does not read unchanged files again, and uploads only new content', async () => {
    await writeFile(join(source, 'a.txt'), 'alpha');
    await writeFile(join(source, 'b.txt'), 'bravo');
    const { run, backend } = await setup();
    const first = await run();
    expect(first.bytesUploaded).toBe(10);

    const second = await run();
    expect(second.files).toEqual({ new: 0, changed: 0, unchanged: 2, skipped: 0 });
    expect(second.bytesRead).toBe(0);
    expect(second.bytesUploaded).toBe(0);

    await writeFile(join(source, 'b.txt'), 'bravo two');
    await writeFile(join(source, 'copy-of-a.txt'), 'alpha');
    const before = backend.total('put');
    const third = await run();
    expect(third.files).toEqual({ new: 1, changed: 1, unchanged: 1, skipped: 0 });
    // b.txt's new content is uploaded; the copy of a.txt is referenced, not uploaded.
    expect(third.bytesUploaded).toBe(9);
    // puts: lock, b.txt, manifest
    expect(backend.total('put') - before).toBe(3);
  });

  it('needs no more than 5 requests for a backup with no changes', async () => {
    for (let i = 0; i < 20; i++) await writeFile(join(source, `f${i}`), `file ${i}`);
    const { run, backend } = await setup();
    await run();
    const before = backend.snapshot().reduce((sum, c) => sum + c.count, 0);
    const summary = await run();
    expect(summary.files.unchanged).toBe(20);
    const after = backend.snapshot().reduce((sum, c) => sum + c.count, 0);
    expect(after - before).toBeLessThanOrEqual(5);
  });

  it('rebuilds what it needs after the local index is deleted (slower, same result)', async () => {
    await writeFile(join(source, 'a.txt'), 'alpha');
    const { run } = await setup();
    await run();
    await rm(state, { recursive: true, force: true });
    const second = await run();
    expect(second.files.unchanged).toBe(1);
    expect(second.bytesUploaded).toBe(0);
  });
});

describe('hard links on restore', () => {
  it('never links a group member to a file that was already in the target', async () => {
    await writeFile(join(source, 'h1'), 'linked content');
    await link(join(source, 'h1'), join(source, 'h2'));
    const { run, restoreLatest } = await setup();
    await run();
    const target = join(dir, 'target');
    await mkdir(join(target, 'Documents'), { recursive: true });
    await writeFile(join(target, 'Documents', 'h1'), 'EVIL, not from the snapshot');
    await restoreLatest(target, { overwrite: 'never' });
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(target, 'Documents', 'h2'), 'utf8')).toBe('linked content');
    expect((await stat(join(target, 'Documents', 'h2'))).ino).not.toBe(
      (await stat(join(target, 'Documents', 'h1'))).ino,
    );
  });
});

describe('racy clean', () => {
  it('reads a file again next time when it was modified just before it was read', async () => {
    await writeFile(join(source, 'fresh.txt'), 'just written');
    const backend = new MemoryBackend();
    // The clock says "now", and the file was written a moment ago: its times may not move again.
    const clock = new ManualClock(new Date());
    const repository = await initRepository(backend, { clock });
    const run = () => {
      clock.advance(1000);
      return backup({ repository, sources: [{ path: source }], host: 'h', stateFolder: state, clock });
    };
    await run();
    const second = await run();
    expect(second.files).toMatchObject({ unchanged: 1, changed: 0 });
    expect(second.bytesRead).toBe('just written'.length);
  });
});

describe('skipIfUnchanged', () => {
  it('writes nothing when the snapshot would equal its parent, and a snapshot on any change', async () => {
    await writeFile(join(source, 'a.txt'), 'a');
    await mkdir(join(source, 'sub'));
    await writeFile(join(source, 'sub', 'b.txt'), 'b');
    await symlink('a.txt', join(source, 'link'));
    await link(join(source, 'a.txt'), join(source, 'hard.txt'));
    const { backend, run } = await setup();
    const first = await run({ skipIfUnchanged: true });
    expect(first.written).toBe(true);

    const quiet = await run({ skipIfUnchanged: true });
    expect(quiet).toMatchObject({ written: false, id: first.id, stamp: first.stamp });
    expect(await listSnapshots(backend)).toHaveLength(1);

    await rm(join(source, 'sub', 'b.txt'));
    const afterDelete = await run({ skipIfUnchanged: true });
    expect(afterDelete.written).toBe(true);
    await symlink('sub', join(source, 'link2'));
    expect((await run({ skipIfUnchanged: true })).written).toBe(true);
    expect((await run({ skipIfUnchanged: true })).written).toBe(false);
    expect(await listSnapshots(backend)).toHaveLength(3);
    // Without the option every run is a snapshot.
    expect((await run()).written).toBe(true);
    expect(await listSnapshots(backend)).toHaveLength(4);
  });
});
