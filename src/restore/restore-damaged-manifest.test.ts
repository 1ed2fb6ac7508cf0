import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dirEntry, fileEntry, headerFor, manifestBytes } from '../../test/manifests.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import type { Entry } from '../repository/manifest.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { initRepository } from '../repository/repository.js';
import { refFor } from '../repository/snapshots.js';
import { type RestoreEvent, restore } from './restore.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-salvage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ref = refFor('laptop', '20260101_000000');
const files = Array.from({ length: 8 }, (_, i) => `src/f${i}.txt`);
const entries: Entry[] = [dirEntry('src'), ...files.map((path) => fileEntry(path))];

async function repositoryWith(manifest: Buffer) {
  const backend = new MemoryBackend('memory://primary');
  const repository = await initRepository(backend, { clock: new ManualClock('2026-01-01T00:00:00Z') });
  await backend.put('content/hello', bodyFromBuffer('hello'));
  await backend.put(ref.key, bodyFromBuffer(manifest));
  return { backend, repository };
}

const restored = async (target: string) => (await readdir(join(target, 'src'))).sort();

describe('restore from a damaged manifest', () => {
  it('one unreadable line: every other entry is restored and checked, the loss reported', async () => {
    const lines: Array<Entry | string> = [...entries];
    lines[4] = '{"type":"file","path":"src/f3.txt","mo';
    const { repository } = await repositoryWith(manifestBytes(headerFor(ref, 9), lines, { members: true }));
    const target = join(dir, 'target');
    const summary = await restore({ repository, snapshot: ref, target });
    expect(await restored(target)).toEqual(files.filter((f) => f !== 'src/f3.txt').map((f) => f.slice(4)));
    expect(await readFile(join(target, 'src/f0.txt'), 'utf8')).toBe('hello');
    expect(summary.files.restored).toBe(7);
    expect(summary.manifestDamage).toEqual({
      key: ref.key,
      from: 'memory://primary',
      listed: 9,
      lost: 1,
      problems: ['line 6 is not valid JSON'],
      message: expect.stringContaining('line 6 is not valid JSON'),
    });
  });

  it('a manifest cut short: the entries before the cut are restored', async () => {
    const whole = manifestBytes(headerFor(ref, 9), entries, { members: true });
    const { repository } = await repositoryWith(whole.subarray(0, Math.floor(whole.length * 0.7)));
    const target = join(dir, 'target');
    const summary = await restore({ repository, snapshot: ref, target });
    const got = await restored(target);
    expect(got.length).toBeGreaterThanOrEqual(4);
    expect(got).toEqual(files.slice(0, got.length).map((f) => f.slice(4)));
    expect(summary.manifestDamage!.lost).toBe(8 - got.length);
  });

  it('a folder and a file of one path: the first is restored, the other reported', async () => {
    const lines: Entry[] = [dirEntry('src'), dirEntry('src/a'), fileEntry('src/a'), fileEntry('src/b')];
    const { repository } = await repositoryWith(manifestBytes(headerFor(ref, 4), lines));
    const target = join(dir, 'target');
    const summary = await restore({ repository, snapshot: ref, target });
    expect(summary.manifestDamage!.problems).toEqual(['line 4: "src/a" is listed twice (lines 3 and 4)']);
    expect(await restored(target)).toEqual(['a', 'b']);
  });

  it('an intact copy in a replica is used instead, with nothing lost', async () => {
    const whole = manifestBytes(headerFor(ref, 9), entries, { members: true });
    const { repository } = await repositoryWith(whole.subarray(0, whole.length - 40));
    const replica = new MemoryBackend('memory://replica');
    await replica.put(ref.key, bodyFromBuffer(whole));
    await replica.put('content/hello', bodyFromBuffer('hello'));
    const summary = await restore({
      repository,
      snapshot: ref,
      target: join(dir, 't'),
      fallbacks: [replica],
    });
    expect(summary.manifestDamage).toBeUndefined();
    expect(summary.files.restored).toBe(8);
  });

  it('with no readable header, nothing is written and the error names the manifest', async () => {
    const whole = manifestBytes(headerFor(ref, 9), entries, { members: true });
    const damaged = Buffer.from(whole);
    damaged.fill(0, 0, 40);
    const { repository, backend } = await repositoryWith(damaged);
    expect((await readAll(await backend.get(ref.key))).length).toBe(whole.length);
    await expect(restore({ repository, snapshot: ref, target: join(dir, 'target') })).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining(ref.key),
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("an intact copy in this machine's cache serves when the repository's is damaged (and no replica has one)", async () => {
    const whole = manifestBytes(headerFor(ref, 9), entries, { members: true });
    const { repository } = await repositoryWith(whole.subarray(0, Math.floor(whole.length * 0.7)));
    const cache = new ManifestCache(join(dir, 'cache'));
    await cache.store(ref, whole);
    const events: RestoreEvent[] = [];
    const target = join(dir, 'target');
    const summary = await restore({
      repository,
      snapshot: ref,
      target,
      localManifests: cache,
      onEvent: (event) => events.push(event),
    });
    expect(await restored(target)).toEqual(files.map((f) => f.slice(4)));
    expect(summary.manifestDamage).toBeUndefined();
    expect(summary.manifestFromCache).toEqual({
      key: ref.key,
      from: cache.copyPath(ref),
      reason: expect.stringContaining(`${ref.key} is damaged`),
    });
    expect(events).toContainEqual({ type: 'cached-manifest', ...summary.manifestFromCache });
  });

  it('every file from the cached copy is still checked against its SHA-256', async () => {
    const whole = manifestBytes(headerFor(ref, 9), entries, { members: true });
    const { repository, backend } = await repositoryWith(whole.subarray(0, whole.length - 40));
    const cache = new ManifestCache(join(dir, 'cache'));
    await cache.store(ref, whole);
    await backend.put('content/hello', bodyFromBuffer('HELLO'));
    await expect(
      restore({ repository, snapshot: ref, target: join(dir, 'target'), localManifests: cache }),
    ).rejects.toMatchObject({ code: 'INTEGRITY' });
  });

  it("a cached copy that is damaged too, or names another snapshot, is not used: the repository's is salvaged", async () => {
    const whole = manifestBytes(headerFor(ref, 9), entries, { members: true });
    const cut = whole.subarray(0, Math.floor(whole.length * 0.7));
    const other = refFor('laptop', '20250101_000000');
    for (const copy of [cut, manifestBytes(headerFor(other, 9), entries, { members: true })]) {
      const { repository } = await repositoryWith(cut);
      const cache = new ManifestCache(join(dir, 'cache'));
      await cache.store(ref, copy);
      const summary = await restore({
        repository,
        snapshot: ref,
        target: join(dir, `target-${copy.length}`),
        localManifests: cache,
      });
      expect(summary.manifestFromCache).toBeUndefined();
      expect(summary.manifestDamage?.from).toBe('memory://primary');
    }
  });
});
