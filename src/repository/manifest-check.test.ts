import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileEntry, headerFor, manifestBytes, putManifest } from '../../test/manifests.js';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { LocalBackend } from '../backend/local/local-backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ManifestCache } from './manifest-cache.js';
import { readCheckedHeaders } from './manifest-check.js';
import { listSnapshots, refFor } from './snapshots.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-check-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function threeManifests(backend: Backend) {
  for (const stamp of ['20260101_000000', '20260102_000000', '20260103_000000']) {
    await putManifest(backend, 'laptop', stamp, [fileEntry('src/a'), fileEntry('src/b')], { members: true });
  }
  return listSnapshots(backend);
}

describe('headers read from the repository, in full', () => {
  it('a store without MD5 ETags (a folder): downloaded once, then trusted by size, ETag and hash', async () => {
    const local = new LocalBackend(join(dir, 'repo'));
    await local.create();
    const refs = await threeManifests(local);
    const cache = new ManifestCache(join(dir, 'cache'));
    // The cache holds each manifest already (as after a backup), but nothing proves it current.
    for (const ref of refs) await cache.store(ref, await readAll(await local.get(ref.key)));

    const first = new CountingBackend(local);
    const checked = await readCheckedHeaders(first, cache, refs);
    expect(checked.headers.map((h) => h.stamp)).toEqual(refs.map((r) => r.stamp));
    expect(first.total('get')).toBe(3);

    const second = new CountingBackend(local);
    expect((await readCheckedHeaders(second, cache, refs)).damaged).toEqual([]);
    expect(second.total('get')).toBe(0);
    expect(second.total('list')).toBe(1);
  });

  it('an MD5 ETag proves a cached copy at once', async () => {
    const memory = new MemoryBackend();
    const refs = await threeManifests(memory);
    const cache = new ManifestCache(join(dir, 'cache'));
    for (const ref of refs) await cache.store(ref, await readAll(await memory.get(ref.key)));
    const counting = new CountingBackend(memory);
    expect((await readCheckedHeaders(counting, cache, refs)).refs).toHaveLength(3);
    expect(counting.total('get')).toBe(0);
  });

  it("a cached copy that differs from the repository's is replaced by it", async () => {
    const memory = new MemoryBackend();
    const [ref] = await threeManifests(memory);
    const cache = new ManifestCache(join(dir, 'cache'));
    const tags = manifestBytes(headerFor(ref!, 2, { tags: ['stale copy'] }), [
      fileEntry('src/a'),
      fileEntry('src/b'),
    ]);
    await cache.store(ref!, tags);
    const checked = await readCheckedHeaders(memory, cache, [ref!]);
    expect(checked.headers[0]!.tags).toEqual([]);
    expect((await cache.cached(ref!))!.equals(await readAll(await memory.get(ref!.key)))).toBe(true);
  });

  it('a manifest replaced in the repository (new ETag) is read in full again', async () => {
    const local = new LocalBackend(join(dir, 'repo'));
    await local.create();
    const refs = await threeManifests(local);
    const cache = new ManifestCache(join(dir, 'cache'));
    await readCheckedHeaders(local, cache, refs);
    // Same size, other bytes, another modification time: the folder's ETag changes.
    const original = await readAll(await local.get(refs[0]!.key));
    const damaged = Buffer.from(original);
    damaged[damaged.length - 12]! ^= 0x55;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await writeFile(join(dir, 'repo', refs[0]!.key), damaged);
    const checked = await readCheckedHeaders(local, cache, refs);
    expect(checked.damaged.map((d) => d.ref.key)).toEqual([refs[0]!.key]);
    expect(checked.damaged[0]!.header?.stamp).toBe(refs[0]!.stamp);
    // The intact local copy stays.
    expect((await cache.cached(refs[0]!))!.equals(original)).toBe(true);
  });

  for (const [label, damage] of [
    ['truncated (tail missing)', (data: Buffer) => data.subarray(0, data.length - 30)],
    [
      'with a line that is not JSON',
      () =>
        manifestBytes(headerFor(refFor('laptop', '20260101_000000'), 2), [fileEntry('src/a'), '{"type":']),
    ],
    [
      'holding fewer entries than its header says',
      () =>
        manifestBytes(headerFor(refFor('laptop', '20260101_000000'), 3), [
          fileEntry('src/a'),
          fileEntry('src/b'),
        ]),
    ],
    ['not gzip at all', () => Buffer.from('{"format":"twinvault-manifest"}\n')],
  ] as const) {
    it(`a manifest ${label} is damaged, and the others are read`, async () => {
      const memory = new MemoryBackend();
      const refs = await threeManifests(memory);
      const data = await readAll(await memory.get(refs[0]!.key));
      await memory.put(refs[0]!.key, bodyFromBuffer(damage(data)));
      const checked = await readCheckedHeaders(memory, new ManifestCache(join(dir, 'cache')), refs);
      expect(checked.refs.map((r) => r.key)).toEqual([refs[1]!.key, refs[2]!.key]);
      expect(checked.damaged).toHaveLength(1);
      expect(checked.damaged[0]!.error).toMatchObject({ code: 'INTEGRITY' });
      expect(checked.damaged[0]!.error.message).toContain(refs[0]!.key);
    });
  }

  it('a manifest gone since the listing is left out, not damaged', async () => {
    const memory = new MemoryBackend();
    const refs = await threeManifests(memory);
    await memory.delete(refs[1]!.key);
    const checked = await readCheckedHeaders(memory, new ManifestCache(join(dir, 'cache')), refs);
    expect(checked.refs).toHaveLength(2);
    expect(checked.damaged).toEqual([]);
  });
});
