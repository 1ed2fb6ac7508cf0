import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { ProvenManifests } from '../repository/proven-manifests.js';
import { readReadableHeaders } from '../repository/snapshot-headers.js';
import { listSnapshots } from '../repository/snapshots.js';
import { forget } from './forget.js';
import { prune } from './prune.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/** Three snapshots of Documents a minute apart, and the cache the backups filled (warm). */
async function threeSnapshots() {
  const backend = new MemoryBackend('memory://damaged');
  const fixture = await replicationFixture(backend);
  cleanups.push(fixture.cleanup);
  for (const round of [1, 2, 3]) {
    await fixture.write({ 'a.txt': `a, version ${round}`, 'b.txt': 'b, never changes' });
    await fixture.snapshot();
  }
  const warm = ManifestCache.forRepository(join(fixture.dir, 'state'), fixture.repo.config.id);
  const cold = new ManifestCache(join(fixture.dir, 'fresh-machine'));
  const refs = await listSnapshots(backend);
  // Every header read once, as `snapshots` would: the warm cache holds every manifest.
  await readReadableHeaders(await ProvenManifests.list(backend, warm), refs);
  return { backend, fixture, warm, cold, refs };
}

async function damage(backend: MemoryBackend, key: string, how: 'truncate' | 'flip' | 'garbage') {
  const data = await readAll(await backend.get(key));
  let damaged: Buffer;
  if (how === 'truncate') damaged = data.subarray(0, data.length - 20);
  else if (how === 'garbage') damaged = Buffer.from('not a manifest at all');
  else {
    damaged = Buffer.from(data);
    damaged[damaged.length - 30]! ^= 0xff;
  }
  await backend.put(key, bodyFromBuffer(damaged));
}

describe('forget with a damaged manifest', () => {
  for (const cache of ['warm', 'cold'] as const) {
    it(`refuses while the newest manifest is truncated (${cache} cache), and prune still refuses`, async () => {
      const setup = await threeSnapshots();
      const { backend, refs } = setup;
      const newest = refs.at(-1)!;
      await damage(backend, newest.key, 'truncate');
      const before = await keysOf(backend);
      const error = await forget({ backend, cache: setup[cache], policy: { last: 1 } }).catch((e) => e);
      expect(error).toMatchObject({ code: 'INTEGRITY' });
      expect(error.message).toContain(newest.key);
      expect(error.message).toMatch(/cannot be read/);
      expect(error.hint).toContain('twinvault repair');
      expect(await keysOf(backend)).toEqual(before);
      await expect(prune({ backend })).rejects.toMatchObject({ code: 'INTEGRITY' });
      expect(await keysOf(backend)).toEqual(before);
    });
  }

  it('refuses a dry run too, naming the manifest', async () => {
    const { backend, warm, refs } = await threeSnapshots();
    await damage(backend, refs[1]!.key, 'truncate');
    await expect(forget({ backend, cache: warm, policy: { last: 1 }, dryRun: true })).rejects.toThrow(
      refs[1]!.key,
    );
  });

  it('notices a same-size corruption of a cached manifest (its ETag differs)', async () => {
    const { backend, warm, refs } = await threeSnapshots();
    await damage(backend, refs.at(-1)!.key, 'flip');
    const before = await keysOf(backend);
    await expect(forget({ backend, cache: warm, policy: { last: 1 } })).rejects.toMatchObject({
      code: 'INTEGRITY',
    });
    expect(await keysOf(backend)).toEqual(before);
  });

  it('refuses when even the header cannot be read', async () => {
    const { backend, cold, refs } = await threeSnapshots();
    await damage(backend, refs.at(-1)!.key, 'garbage');
    const before = await keysOf(backend);
    await expect(forget({ backend, cache: cold, policy: { last: 1 } })).rejects.toThrow(refs.at(-1)!.key);
    expect(await keysOf(backend)).toEqual(before);
  });

  it('leaves the intact local copy of a damaged manifest in the cache', async () => {
    const { backend, warm, refs } = await threeSnapshots();
    const newest = refs.at(-1)!;
    const intact = await warm.bytes(backend, newest);
    await damage(backend, newest.key, 'truncate');
    await forget({ backend, cache: warm, policy: { last: 1 } }).catch(() => {});
    expect((await warm.bytes(backend, newest)).equals(intact)).toBe(true);
  });

  it('thins a group that holds no damaged manifest', async () => {
    const { backend, fixture, warm, refs } = await threeSnapshots();
    // Another source of the same host: a group of its own, with a damaged manifest.
    const other = join(fixture.dir, 'Pictures');
    await mkdir(other);
    await writeFile(join(other, 'p.jpg'), 'picture');
    const { backup } = await import('../backup/backup.js');
    fixture.clock.advance(60_000);
    await backup({
      repository: fixture.repo,
      sources: [{ path: other }],
      host: 'laptop',
      stateFolder: join(fixture.dir, 'state'),
      clock: fixture.clock,
    });
    const pictures = (await listSnapshots(backend)).at(-1)!;
    await damage(backend, pictures.key, 'truncate');
    const result = await forget({ backend, cache: warm, policy: { last: 1 } });
    expect(result.removed).toBe(2);
    const left = (await listSnapshots(backend)).map((ref) => ref.key);
    expect(left).toEqual([refs.at(-1)!.key, pictures.key]);
  });

  it('reads an intact repository fully once; the next run trusts what it checked', async () => {
    const { backend, warm } = await threeSnapshots();
    await forget({ backend, cache: warm, policy: { last: 3 } });
    let gets = 0;
    const counting = new Proxy(backend, {
      get(target, property, receiver) {
        if (property === 'get')
          return (...args: Parameters<MemoryBackend['get']>) => {
            gets++;
            return target.get(...args);
          };
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const result = await forget({ backend: counting, cache: warm, policy: { last: 3 } });
    expect(result.removed).toBe(0);
    // Only lock files are read; no manifest is downloaded again.
    expect(gets).toBeLessThanOrEqual(1);
  });
});
