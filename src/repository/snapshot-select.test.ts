import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import { ManifestCache } from './manifest-cache.js';
import { ProvenManifests } from './proven-manifests.js';
import { initRepository } from './repository.js';
import { selectSnapshot } from './snapshot-select.js';
import { refFor } from './snapshots.js';

describe('selecting a snapshot by source and path', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-select-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** photos alone, then both folders by hand, then Documents alone twice (as the agent does). */
  async function laptop() {
    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-11-20T10:00:00Z');
    const repository = await initRepository(backend, { clock });
    const documents = join(work, 'Documents');
    const photos = join(work, 'photos');
    await mkdir(documents);
    await mkdir(join(photos, 'trip'), { recursive: true });
    await writeFile(join(documents, 'notes.txt'), 'v1');
    await writeFile(join(photos, 'img1.jpg'), 'a photo');
    const run = async (...paths: string[]) => {
      clock.advance(60_000);
      const summary = await backup({
        repository,
        sources: paths.map((path) => ({ path })),
        host: 'laptop',
        stateFolder: join(work, 'state'),
        clock,
      });
      return `${summary.host}/${summary.stamp}`;
    };
    const photosOnly = await run(photos);
    const both = await run(documents, photos);
    await writeFile(join(documents, 'notes.txt'), 'v2');
    const docs3 = await run(documents);
    await writeFile(join(documents, 'notes.txt'), 'v3');
    const docs4 = await run(documents);
    // A fresh machine's cache, or (warm) the one the backups wrote every manifest into.
    const fresh = new ManifestCache(join(work, 'cache'));
    const warm = ManifestCache.forRepository(join(work, 'state'), repository.config.id);
    const pick = async (spec: string, selection: Parameters<typeof selectSnapshot>[2], cache = fresh) => {
      const picked = await selectSnapshot(await ProvenManifests.list(backend, cache), spec, selection);
      return { ...picked, ref: `${picked.ref.host}/${picked.ref.stamp}` };
    };
    return { backend, warm, pick, photos, photosOnly, both, docs3, docs4 };
  }

  it('"latest" with a path is the newest snapshot that holds it; with a source, the newest of that source', async () => {
    const { pick, both, docs4 } = await laptop();
    expect(await pick('latest', {})).toMatchObject({ ref: docs4, narrowed: false });
    expect(await pick('latest', { paths: ['photos/img1.jpg'] })).toMatchObject({
      ref: both,
      narrowed: true,
      passedOver: 2,
    });
    expect(await pick('latest', { paths: ['/photos/'] })).toMatchObject({ ref: both });
    expect(await pick('latest', { source: 'photos' })).toMatchObject({ ref: both, passedOver: 2 });
    expect(await pick('latest', { source: 'Documents' })).toMatchObject({ ref: docs4, passedOver: 0 });
    expect(await pick('latest', { paths: ['Documents/notes.txt', 'photos/img1.jpg'] })).toMatchObject({
      ref: both,
    });
  });

  it('says when no snapshot holds the path, and refuses a named snapshot without the source', async () => {
    const { pick, docs4 } = await laptop();
    await expect(pick('latest', { paths: ['photos/img2.jpg'] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no snapshot holds "photos/img2.jpg"',
    });
    await expect(pick('latest', { host: 'desk', source: 'photos' })).rejects.toThrow(
      'no snapshot of host "desk" holds source "photos"',
    );
    await expect(pick(docs4, { source: 'photos' })).rejects.toMatchObject({
      code: 'USAGE',
      message: `snapshot ${docs4} holds no source "photos" (it holds "Documents")`,
    });
    expect(await pick(docs4, { source: 'Documents' })).toMatchObject({ ref: docs4 });
  });

  it('passes over a newer snapshot whose manifest is damaged, and names it', async () => {
    const { backend, pick, both, photosOnly } = await laptop();
    const [host, stamp] = both.split('/') as [string, string];
    await backend.put(`.twinvault/snapshots/${host}/${stamp}.json.gz`, bodyFromBuffer('not gzip'));
    const picked = await pick('latest', { paths: ['photos/img1.jpg'] });
    expect(picked).toMatchObject({ ref: photosOnly, passedOver: 2 });
    expect(picked.unreadable.map((u) => `${u.ref.host}/${u.ref.stamp}`)).toEqual([both]);
  });

  it("with a warm cache, decides on the repository's copy: a manifest truncated there is passed over", async () => {
    const { backend, warm, pick, both, photosOnly } = await laptop();
    const [host, stamp] = both.split('/') as [string, string];
    const key = `.twinvault/snapshots/${host}/${stamp}.json.gz`;
    // The intact copy is in the warm cache (the backup wrote it); the repository's loses its tail.
    const intact = await readAll(await backend.get(key));
    expect((await warm.cached(refFor(host, stamp)))?.equals(intact)).toBe(true);
    await backend.put(key, bodyFromBuffer(intact.subarray(0, intact.length - 20)));
    for (const selection of [{ paths: ['photos/img1.jpg'] }, { paths: ['photos'] }]) {
      const picked = await pick('latest', selection, warm);
      expect(picked).toMatchObject({ ref: photosOnly, passedOver: 2 });
      expect(picked.unreadable.map((u) => `${u.ref.host}/${u.ref.stamp}`)).toEqual([both]);
      expect(picked.unreadable[0]!.message).toContain(`${key} is damaged`);
    }
    // The intact cached copy is kept: it may be the last one.
    expect((await warm.cached(refFor(host, stamp)))?.equals(intact)).toBe(true);
    // A named snapshot's source is checked against the repository's copy's header too.
    await backend.put(key, bodyFromBuffer('not gzip'));
    await expect(pick(both, { source: 'photos' }, warm)).rejects.toMatchObject({ code: 'INTEGRITY' });
  });
});
