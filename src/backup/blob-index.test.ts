import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { isStale, RepositoryLock, readLock } from '../repository/locks.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { backup } from './backup.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-blobs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A repository on the memory backend and a source folder holding a.txt, backed up by run(). */
async function repositoryWithSource(content: string, clock: ManualClock) {
  const source = join(dir, 'src');
  await mkdir(source);
  await writeFile(join(source, 'a.txt'), content);
  const backend = new MemoryBackend();
  const repository = await initRepository(backend, { clock });
  const run = () => {
    clock.advance(60_000);
    return backup({
      repository,
      sources: [{ path: source }],
      host: 'h',
      stateFolder: join(dir, 'state'),
      clock,
    });
  };
  return { source, backend, repository, run };
}

describe('the dedup index', () => {
  it('never references content of a snapshot that was forgotten and pruned since', async () => {
    const { source, backend, repository, run } = await repositoryWithSource(
      'shared content',
      new ManualClock(),
    );
    const first = await run();
    // Another file with the same content: referenced, and the index is saved with it.
    await writeFile(join(source, 'b.txt'), 'shared content');
    expect((await run()).bytesUploaded).toBe(0);

    // Forget both snapshots and prune their content, as retention would.
    for (const ref of await listSnapshots(backend)) await backend.delete(ref.key);
    await backend.delete(`h/${first.stamp}/src/a.txt`);

    await writeFile(join(source, 'c.txt'), 'shared content');
    const third = await run();
    expect(third.bytesUploaded).toBeGreaterThan(0);
    const [ref] = await listSnapshots(backend);
    const { ManifestCache } = await import('../repository/manifest-cache.js');
    const { entries } = await ManifestCache.forRepository(join(dir, 'state'), repository.config.id).load(
      backend,
      ref!,
    );
    for (const entry of entries) {
      if (entry.type === 'file')
        expect((await readAll(await backend.get(entry.key))).toString()).toBe('shared content');
    }
  });
});

describe('repository locks', () => {
  it('are refreshed with a new expiry and go stale once it passes', async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const lock = await RepositoryLock.acquire(backend, 'shared', 'backup', clock);
    const first = (await readLock(backend, lock.key))!;
    clock.advance(10 * 60_000);
    await lock.refresh();
    const second = (await readLock(backend, lock.key))!;
    expect(Date.parse(second.expires)).toBe(Date.parse(first.expires) + 10 * 60_000);
    expect(isStale(second, clock.now())).toBe(false);
    clock.advance(31 * 60_000);
    expect(isStale(second, clock.now())).toBe(true);
    await lock.release();
    expect(await readLock(backend, lock.key)).toBeUndefined();
  });
});

describe('two backups of one host in the same second', () => {
  it('never overwrite each other: one fails and says to run again, the other restores exactly', async () => {
    const { restore } = await import('../restore/restore.js');
    const { describeTree } = await import('../../test/tree.js');
    const a = join(dir, 'a', 'docs');
    const b = join(dir, 'b', 'docs');
    await mkdir(a, { recursive: true });
    await mkdir(b, { recursive: true });
    for (let i = 0; i < 20; i++) {
      await writeFile(join(a, `f${i}`), `from a ${i}`);
      await writeFile(join(b, `f${i}`), `from b ${i}!`);
    }
    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-02-02T02:02:02Z');
    const repository = await initRepository(backend, { clock });
    const run = (source: string, state: string) =>
      backup({ repository, sources: [{ path: source }], host: 'same', stateFolder: join(dir, state), clock });
    const results = await Promise.allSettled([run(a, 'sa'), run(b, 'sb')]);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({
      code: 'ALREADY_EXISTS',
      message: expect.stringContaining('same second'),
    });
    const winner = results.findIndex((r) => r.status === 'fulfilled') === 0 ? a : b;
    const [ref] = await listSnapshots(backend);
    await restore({ repository, snapshot: ref!, target: join(dir, 'out') });
    expect(await describeTree(join(dir, 'out', 'docs'))).toEqual(await describeTree(winner));
  });
});

describe('BlobIndex storage', () => {
  it('finds every digest after a save and a reload, including those a later run adds', async () => {
    const { createHash } = await import('node:crypto');
    const { BlobIndex } = await import('./blob-index.js');
    const { ManifestCache } = await import('../repository/manifest-cache.js');
    const cache = new ManifestCache(join(dir, 'index'));
    const backend = new MemoryBackend();
    const sha = (i: number) => createHash('sha256').update(String(i)).digest('hex');
    const first = await BlobIndex.load(cache, backend, []);
    for (let i = 0; i < 500; i++) first.add(sha(i), `h/1/file ${i}`);
    first.add(sha(3), 'h/1/a second key for known content');
    await first.save();
    const second = await BlobIndex.load(cache, backend, []);
    for (let i = 0; i < 500; i++) expect(second.get(sha(i))).toBe(`h/1/file ${i}`);
    expect(second.get(sha(1000))).toBeUndefined();
    for (let i = 500; i < 700; i++) second.add(sha(i), `h/2/file ${i}`);
    await second.save();
    const third = await BlobIndex.load(cache, backend, []);
    for (let i = 0; i < 700; i++) expect(third.get(sha(i))).toBe(`h/${i < 500 ? 1 : 2}/file ${i}`);
  });

  it('starts over from the manifests when the saved file is damaged', async () => {
    const { BlobIndex } = await import('./blob-index.js');
    const { ManifestCache } = await import('../repository/manifest-cache.js');
    const cache = new ManifestCache(join(dir, 'index'));
    await mkdir(cache.folder, { recursive: true });
    await writeFile(cache.filePath('blobs.idx'), '{"version":2,"manifests":[],"count":5}\nshort');
    const index = await BlobIndex.load(cache, new MemoryBackend(), []);
    expect(index.get('a'.repeat(64))).toBeUndefined();
  });
});

describe('bringing the dedup index up to date', () => {
  it('does not read the entries of snapshots that stored nothing new', async () => {
    const { vi } = await import('vitest');
    const { ManifestCache } = await import('../repository/manifest-cache.js');
    // An hour ahead of the files' times, so none counts as just modified (racy) and is read again.
    const clock = new ManualClock(new Date(Date.now() + 3_600_000));
    const { source, run } = await repositoryWithSource('alpha', clock);
    await run();
    await run(); // nothing changed: the dedup index is not even loaded
    await run();
    const load = vi.spyOn(ManifestCache.prototype, 'load');
    await writeFile(join(source, 'b.txt'), 'alpha'); // same content: found through the index
    const fourth = await run();
    expect(fourth.bytesUploaded).toBe(0);
    expect(load).not.toHaveBeenCalled();
    load.mockRestore();
  });
});

describe('the dedup index, when a key it knows is gone from the store', () => {
  it('keeps only the new key for that content once saved and loaded again', async () => {
    const { ManifestCache } = await import('../repository/manifest-cache.js');
    const { BlobIndex } = await import('./blob-index.js');
    const cache = new ManifestCache(join(dir, 'cache'));
    const backend = new MemoryBackend();
    const digest = (n: number) => n.toString(16).padStart(64, '0');
    const index = await BlobIndex.load(cache, backend, []);
    for (let n = 1; n <= 5; n++) index.add(digest(n), `old/${n}`);
    await index.save();
    const loaded = await BlobIndex.load(cache, backend, []);
    loaded.replace(digest(3), 'new/3');
    loaded.add(digest(6), 'new/6');
    await loaded.save();
    const again = await BlobIndex.load(cache, backend, []);
    expect([1, 2, 3, 4, 5, 6].map((n) => again.get(digest(n)))).toEqual([
      'old/1',
      'old/2',
      'new/3',
      'old/4',
      'old/5',
      'new/6',
    ]);
    // One entry per digest: the file says 6, and the keys after the digests are exactly those.
    const { readFile } = await import('node:fs/promises');
    const file = await readFile(cache.filePath('blobs.idx'));
    const head = JSON.parse(file.toString('utf8', 0, file.indexOf(0x0a)));
    expect(head.count).toBe(6);
  });
});
