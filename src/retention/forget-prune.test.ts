import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { kindOfKey } from '../repository/layout.js';
import { RepositoryLock } from '../repository/locks.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { listSnapshots } from '../repository/snapshots.js';
import { forget } from './forget.js';
import { prune } from './prune.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/** Three snapshots a minute apart: a.txt changes each time, b.txt never. */
async function threeSnapshots() {
  const backend = new MemoryBackend('memory://retention');
  const fixture = await replicationFixture(backend);
  cleanups.push(fixture.cleanup);
  for (const round of [1, 2, 3]) {
    await fixture.write({ 'a.txt': `a, version ${round}`, 'b.txt': 'b, never changes' });
    await fixture.snapshot();
  }
  const cache = new ManifestCache(join(fixture.dir, 'cache'));
  return { backend, fixture, cache };
}

const contentKeys = async (backend: MemoryBackend) =>
  (await keysOf(backend)).filter((k) => kindOfKey(k) === 'content');

describe('forget and prune', () => {
  it('a dry run says what it would keep and why, and changes nothing', async () => {
    const { backend, cache } = await threeSnapshots();
    const before = await keysOf(backend);
    const result = await forget({ backend, cache, policy: { last: 2 }, dryRun: true });
    expect(result).toMatchObject({ removed: 1, kept: 2, dryRun: true });
    expect(result.groups[0]!.decisions.map((d) => [d.keep, d.reasons])).toEqual([
      [true, ['latest', 'last']],
      [true, ['last']],
      [false, []],
    ]);
    expect(await keysOf(backend)).toEqual(before);
    expect((await prune({ backend, dryRun: true })).deleted.objects).toBe(0);
  });

  it('forget removes manifests only; prune then frees exactly what only they needed', async () => {
    const { backend, fixture, cache } = await threeSnapshots();
    const [first] = await listSnapshots(backend);
    const onlyFirst = (await contentKeys(backend)).filter(
      (k) => k.startsWith(`laptop/${first!.stamp}/`) && k.endsWith('a.txt'),
    );
    const shared = (await contentKeys(backend)).filter((k) => k.endsWith('b.txt'));
    expect(onlyFirst).toHaveLength(1);

    const forgotten = await forget({ backend, cache, policy: { last: 2 } });
    expect(forgotten).toMatchObject({ removed: 1, kept: 2 });
    expect((await listSnapshots(backend)).map((r) => r.id)).not.toContain(first!.id);
    expect(await contentKeys(backend)).toContain(onlyFirst[0]);

    const pruned = await prune({ backend });
    expect(pruned.deleted).toEqual({ objects: 1, bytes: 'a, version 1'.length });
    const left = await contentKeys(backend);
    expect(left).not.toContain(onlyFirst[0]);
    // b.txt was uploaded by the first snapshot and is still referenced by the others.
    expect(left).toEqual(expect.arrayContaining(shared));
    expect(await fixture.latestRestoresAsFolder(backend)).toBe(true);
    expect((await prune({ backend })).deleted.objects).toBe(0);
  });

  it('keeps unreferenced objects a running backup may be about to reference, and removes stale locks', async () => {
    const { backend } = await threeSnapshots();
    const clock = new ManualClock(new Date());
    await backend.put(
      'laptop/20200101_000000/Documents/leftover.txt',
      bodyFromBuffer('from a crashed backup'),
    );
    const stale = await RepositoryLock.acquire(
      backend,
      'shared',
      'backup',
      new ManualClock('2020-01-01T00:00:00Z'),
    );
    await stale.release().catch(() => {});
    await backend.put(
      stale.key,
      bodyFromBuffer(
        JSON.stringify({
          kind: 'shared',
          host: 'x',
          pid: 1,
          operation: 'backup',
          created: '2020-01-01T00:00:00Z',
          expires: '2020-01-01T00:30:00Z',
        }),
      ),
    );

    // A backup running now (its lock is live) has just uploaded an object no manifest names yet.
    const running = await RepositoryLock.acquire(backend, 'shared', 'backup', clock);
    await backend.put('laptop/20991231_000000/Documents/new.txt', bodyFromBuffer('about to be referenced'));
    const result = await prune({ backend, clock });
    await running.release();
    // The leftover was written just now too (the memory store's clock is real time): it is kept.
    expect(result.keptForRunningBackups).toBe(2);
    expect(result.staleLocksRemoved).toBe(1);
    expect(await keysOf(backend)).toContain('laptop/20991231_000000/Documents/new.txt');
    expect(await backend.list('.twinvault/locks/')[Symbol.asyncIterator]().next()).toMatchObject({
      done: true,
    });

    // Once no backup runs, the leftovers of a crash before the newest snapshot go; those after it
    // stay for the next backup to take up (backup/leftovers.ts), for 30 days at most.
    const after = await prune({ backend, clock });
    expect(after.deleted.objects).toBe(1);
    expect(after.keptForResume).toEqual({ objects: 1, bytes: 'about to be referenced'.length });
    expect(await keysOf(backend)).not.toContain('laptop/20200101_000000/Documents/leftover.txt');
    clock.advance(30 * 86_400_000);
    const month = await prune({ backend, clock });
    expect(month.deleted.objects).toBe(1);
    expect(month.keptForResume.objects).toBe(0);
  });

  it("keeps a running backup's objects even when its machine's clock is an hour fast", async () => {
    const { backend } = await threeSnapshots();
    const fast = new ManualClock(new Date(Date.now() + 3_600_000));
    const running = await RepositoryLock.acquire(backend, 'shared', 'backup', fast);
    await backend.put('laptop/20991231_000000/Documents/new.txt', bodyFromBuffer('about to be referenced'));
    const result = await prune({ backend, clock: new ManualClock(new Date()) });
    await running.release();
    expect(result).toMatchObject({ keptForRunningBackups: 1, deleted: { objects: 0 } });
  });

  it('forget waits for running backups, and says so when it gives up', async () => {
    const { backend, cache } = await threeSnapshots();
    const clock = new ManualClock(new Date());
    const running = await RepositoryLock.acquire(backend, 'shared', 'backup', clock);
    const waits: string[] = [];
    await expect(
      forget({
        backend,
        cache,
        policy: { last: 1 },
        clock,
        lockWaitMs: 10_000,
        onWait: (why) => waits.push(why),
      }),
    ).rejects.toThrow(/the repository is locked by backup on .* since/);
    expect(waits.length).toBeGreaterThan(0);
    await running.release();
    expect((await listSnapshots(backend)).length).toBe(3);
  });

  it('prune stops before deleting anything when a manifest cannot be read', async () => {
    const { backend, cache } = await threeSnapshots();
    await forget({ backend, cache, policy: { last: 2 } });
    const [victim] = await listSnapshots(backend);
    await backend.put(victim!.key, bodyFromBuffer('not gzip'));
    const before = await keysOf(backend);
    await expect(prune({ backend })).rejects.toThrow(
      /prune stopped before deleting anything: snapshot .* cannot be read/,
    );
    expect(await keysOf(backend)).toEqual(before);
  });

  it("never deletes objects beside the repository that are not twinvault's", async () => {
    const { backend } = await threeSnapshots();
    await backend.put('photos/cat.jpg', bodyFromBuffer('not a backup'));
    await backend.put('notes.txt', bodyFromBuffer('nor this'));
    const result = await prune({ backend });
    expect(result.unreferenced.objects).toBe(0);
    expect(await keysOf(backend)).toEqual(expect.arrayContaining(['notes.txt', 'photos/cat.jpg']));
  });

  it('refuses a forget without any rule', async () => {
    const { backend, cache } = await threeSnapshots();
    await expect(forget({ backend, cache, policy: {} })).rejects.toThrow(/no retention rule given/);
  });
});
