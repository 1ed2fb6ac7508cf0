import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import type { Repository } from '../repository/repository.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots, type SnapshotRef } from '../repository/snapshots.js';
import { restore } from './restore.js';

let dir: string;
let repository: Repository;
let snapshot: SnapshotRef;
let backend: MemoryBackend;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-restore-'));
  const source = join(dir, 'docs');
  await mkdir(join(source, 'letters'), { recursive: true });
  await mkdir(join(source, 'photos'));
  await writeFile(join(source, 'letters', 'a.txt'), 'dear a');
  await writeFile(join(source, 'letters', 'b.txt'), 'dear b');
  await writeFile(join(source, 'photos', 'p.jpg'), 'jpeg bytes');
  backend = new MemoryBackend();
  const clock = new ManualClock();
  repository = await initRepository(backend, { clock });
  await backup({
    repository,
    sources: [{ path: source }],
    host: 'h',
    stateFolder: join(dir, 'state'),
    clock,
  });
  [snapshot] = (await listSnapshots(backend)) as [SnapshotRef];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('restore options', () => {
  it('restores only the included subpaths', async () => {
    const target = join(dir, 'partial');
    const summary = await restore({
      repository,
      snapshot,
      target,
      include: ['docs/letters/b.txt', 'docs/photos'],
    });
    expect(summary.files.restored).toBe(2);
    expect(await readdir(join(target, 'docs'))).toEqual(['letters', 'photos']);
    expect(await readdir(join(target, 'docs', 'letters'))).toEqual(['b.txt']);
  });

  it('says so when an include matches nothing', async () => {
    await expect(
      restore({ repository, snapshot, target: join(dir, 'none'), include: ['docs/nope'] }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('changes nothing in a dry run, and lists what it would do', async () => {
    const target = join(dir, 'dry');
    const summary = await restore({ repository, snapshot, target, dryRun: true });
    expect(summary.plan?.filter((step) => step.type === 'file').map((step) => step.action)).toEqual([
      'restore',
      'restore',
      'restore',
    ]);
    await expect(lstat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('skips identical files on a second run (if-changed), so an interrupted restore can be re-run', async () => {
    const target = join(dir, 'again');
    await restore({ repository, snapshot, target });
    await writeFile(join(target, 'docs', 'letters', 'a.txt'), 'edited locally');
    const second = await restore({ repository, snapshot, target, overwrite: 'if-changed' });
    expect(second.files).toEqual({
      restored: 1,
      replaced: 1,
      skippedIdentical: 2,
      skippedExisting: 0,
      keptNewer: 0,
    });
    expect(await readFile(join(target, 'docs', 'letters', 'a.txt'), 'utf8')).toBe('dear a');
  });

  it('leaves existing files alone with "never" and rewrites everything with "always"', async () => {
    const target = join(dir, 'modes');
    await restore({ repository, snapshot, target });
    await writeFile(join(target, 'docs', 'letters', 'a.txt'), 'mine');
    const never = await restore({ repository, snapshot, target, overwrite: 'never' });
    expect(never.files).toEqual({
      restored: 0,
      replaced: 0,
      skippedIdentical: 0,
      skippedExisting: 3,
      keptNewer: 0,
    });
    expect(await readFile(join(target, 'docs', 'letters', 'a.txt'), 'utf8')).toBe('mine');
    const always = await restore({ repository, snapshot, target, overwrite: 'always' });
    expect(always.files).toEqual({
      restored: 3,
      replaced: 3,
      skippedIdentical: 0,
      skippedExisting: 0,
      keptNewer: 0,
    });
    expect(await readFile(join(target, 'docs', 'letters', 'a.txt'), 'utf8')).toBe('dear a');
  });

  it('fails on content damaged in the repository (an object replaced with other bytes)', async () => {
    const other = new MemoryBackend();
    for await (const object of backend.list()) {
      const data = await backend.get(object.key);
      const chunks: Buffer[] = [];
      for await (const chunk of data) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      await other.put(
        object.key,
        bodyFromBuffer(object.key.endsWith('p.jpg') ? Buffer.from('JPEG BYTES') : bytes),
      );
    }
    await expect(
      restore({ repository: { ...repository, backend: other }, snapshot, target: join(dir, 'damaged') }),
    ).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringContaining('docs/photos/p.jpg') });
  });
});

describe('restore corner cases', () => {
  it('creates missing parent folders for files restored in parallel', async () => {
    const target = join(dir, 'parallel-parents');
    const summary = await restore({
      repository,
      snapshot,
      target,
      include: ['docs/letters/a.txt', 'docs/letters/b.txt', 'docs/photos/p.jpg'],
    });
    expect(summary.files.restored).toBe(3);
  });
});
