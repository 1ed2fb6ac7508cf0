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
import { ProvenManifests } from './proven-manifests.js';
import { refFor } from './snapshots.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-proven-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const STAMPS = ['20260101_000000', '20260102_000000', '20260103_000000'];

async function threeManifests(backend: Backend) {
  for (const stamp of STAMPS)
    await putManifest(backend, 'laptop', stamp, [fileEntry('src/a'), fileEntry('src/b')]);
  return STAMPS.map((stamp) => refFor('laptop', stamp));
}

/** Each manifest's bytes into the cache, as a backup leaves them (nothing proves them yet). */
async function warm(backend: Backend, cache: ManifestCache) {
  for (const stamp of STAMPS) {
    const ref = refFor('laptop', stamp);
    await cache.store(ref, await readAll(await backend.get(ref.key)));
  }
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const headers = async (backend: Backend, cache: ManifestCache) => {
  const manifests = await ProvenManifests.list(backend, cache);
  return Promise.all(manifests.refs.map(async (ref) => (await manifests.header(ref)).stamp));
};

describe("the repository's manifests, through the local cache", () => {
  it('one listing gives the snapshots; a cached copy proven by its MD5 ETag costs no download', async () => {
    const memory = new MemoryBackend();
    await threeManifests(memory);
    const cache = new ManifestCache(join(dir, 'cache'));
    await warm(memory, cache);
    const counting = new CountingBackend(memory);
    expect(await headers(counting, cache)).toEqual(STAMPS);
    expect(counting.total('list')).toBe(1);
    expect(counting.total()).toBe(1);
  });

  it('a folder (no MD5 ETags): each cached copy is downloaded once to prove it, then trusted', async () => {
    const local = new LocalBackend(join(dir, 'repo'));
    await local.create();
    await threeManifests(local);
    const cache = new ManifestCache(join(dir, 'cache'));
    await warm(local, cache);
    const first = new CountingBackend(local);
    expect(await headers(first, cache)).toEqual(STAMPS);
    expect(first.total('get')).toBe(3);
    const second = new CountingBackend(local);
    expect(await headers(second, cache)).toEqual(STAMPS);
    expect(second.total()).toBe(1);
    // A fresh cache: downloaded, then kept with its proof.
    const fresh = new ManifestCache(join(dir, 'fresh'));
    await headers(local, fresh);
    const third = new CountingBackend(local);
    await headers(third, fresh);
    expect(third.total()).toBe(1);
  });

  it("a listing reads only headers: damage past a proven copy's header is not parsed, a full read finds it", async () => {
    const memory = new MemoryBackend();
    const ref = refFor('laptop', STAMPS[0]!);
    // Its second entry is not JSON: only reading the entries shows it.
    await memory.put(
      ref.key,
      bodyFromBuffer(manifestBytes(headerFor(ref, 2), [fileEntry('src/a'), '{"type":'])),
    );
    const cache = new ManifestCache(join(dir, 'cache'));
    // Downloaded the first time, from the proven cached copy the second: the header reads both times.
    expect((await (await ProvenManifests.list(memory, cache)).header(ref)).stamp).toBe(ref.stamp);
    const counting = new CountingBackend(memory);
    const manifests = await ProvenManifests.list(counting, cache);
    expect((await manifests.header(ref)).stamp).toBe(ref.stamp);
    expect(counting.total('get')).toBe(0);
    await expect(manifests.checkedHeader(ref)).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(manifests.open(ref).then(async (m) => all(m.entries))).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('line 3 is not valid JSON'),
    });
  });

  it('a manifest damaged in the repository is read from there, never from the intact cached copy, which stays', async () => {
    const memory = new MemoryBackend();
    const refs = await threeManifests(memory);
    const cache = new ManifestCache(join(dir, 'cache'));
    await warm(memory, cache);
    const ref = refs[2]!;
    const intact = (await cache.cached(ref))!;
    for (const damaged of [intact.subarray(0, 30), Buffer.from(intact).fill(0, intact.length - 12)]) {
      await memory.put(ref.key, bodyFromBuffer(damaged));
      const manifests = await ProvenManifests.list(memory, cache);
      await expect(manifests.open(ref)).rejects.toMatchObject({ code: 'INTEGRITY' });
      await expect(manifests.checkedHeader(ref)).rejects.toMatchObject({ code: 'INTEGRITY' });
      expect((await cache.cached(ref))!.equals(intact)).toBe(true);
    }
    // Its header gone, a listing names it too.
    await memory.put(ref.key, bodyFromBuffer(intact.subarray(0, 30)));
    await expect((await ProvenManifests.list(memory, cache)).header(ref)).rejects.toMatchObject({
      code: 'INTEGRITY',
    });
    // Put back as it was: proven again at once.
    await memory.put(ref.key, bodyFromBuffer(intact));
    const counting = new CountingBackend(memory);
    expect(await headers(counting, cache)).toEqual(STAMPS);
    expect(counting.total('get')).toBe(0);
  });

  it('a damaged cached copy is replaced by an intact repository copy read in full', async () => {
    const local = new LocalBackend(join(dir, 'repo'));
    await local.create();
    const [ref] = await threeManifests(local);
    const cache = new ManifestCache(join(dir, 'cache'));
    await warm(local, cache);
    await writeFile(cache.copyPath(ref!), 'torn by a power cut');
    const manifests = await ProvenManifests.list(local, cache);
    expect((await manifests.header(ref!)).stamp).toBe(ref!.stamp);
    expect(await all((await manifests.open(ref!)).entries)).toHaveLength(2);
    expect((await cache.cached(ref!))!.equals(await readAll(await local.get(ref!.key)))).toBe(true);
  });

  it('a manifest gone since the listing is NOT_FOUND', async () => {
    const memory = new MemoryBackend();
    const refs = await threeManifests(memory);
    const manifests = await ProvenManifests.list(memory, new ManifestCache(join(dir, 'cache')));
    await memory.delete(refs[1]!.key);
    await expect(manifests.header(refs[1]!)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(manifests.header(refFor('laptop', '20300101_000000'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
