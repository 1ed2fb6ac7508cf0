import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ManualClock } from '../clock.js';
import { kindOfKey } from '../repository/layout.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import type { EarlyDeletionCharge } from './early-deletion.js';
import { forget } from './forget.js';
import { prune } from './prune.js';

const DAY = 86_400_000;
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/** Two snapshots of a.txt (v1, v2) in a repository whose content is written as `storageClass`; v1 is then forgotten. */
async function forgottenVersion(storageClass: string) {
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const memory = new MemoryBackend('memory://early', () => clock.now(), { storageClass });
  const fixture = await replicationFixture(memory);
  cleanups.push(fixture.cleanup);
  await fixture.write({ 'a.txt': 'a'.repeat(1000), 'b.txt': 'kept' });
  await fixture.snapshot();
  await fixture.write({ 'a.txt': 'A'.repeat(1000) });
  await fixture.snapshot();
  await forget({
    backend: memory,
    cache: new ManifestCache(join(fixture.dir, 'cache')),
    policy: { last: 1 },
  });
  const content = async () => (await keysOf(memory)).filter((key) => kindOfKey(key) === 'content');
  return { clock, memory, content };
}

describe("prune's early-deletion warning", () => {
  it('warns before deleting objects younger than their class minimum, with the charge', async () => {
    const { clock, memory, content } = await forgottenVersion('STANDARD_IA');
    clock.advance(10 * DAY);
    const before = await content();
    const counting = new CountingBackend(memory);
    let deletesWhenWarned: number | undefined;
    const warnings: EarlyDeletionCharge[] = [];
    const result = await prune({
      backend: counting,
      clock,
      prices: { STANDARD_IA: 1024 }, // 1 USD per MiB-month
      onEarlyDeletion: (charge) => {
        warnings.push(charge);
        deletesWhenWarned = counting.total('deleteMany');
      },
    });
    expect(result.deleted.objects).toBe(1);
    expect(warnings).toHaveLength(1);
    // One 1,000-byte object billed as 128 KiB for the 20 days left of 30: 0.125 × 20/30 USD.
    expect(warnings[0]).toEqual({
      objects: 1,
      bytes: 1000,
      usd: expect.closeTo(0.125 * (20 / 30), 9),
      byClass: {
        STANDARD_IA: { objects: 1, bytes: 1000, usd: expect.closeTo(0.125 * (20 / 30), 9), minimumDays: 30 },
      },
    });
    expect(result.earlyDeletion).toEqual(warnings[0]);
    expect(deletesWhenWarned).toBe(0);
    expect(counting.total('deleteMany')).toBe(1);
    expect(await content()).toHaveLength(before.length - 1);
  });

  it('says nothing once the minimum is over, or for STANDARD', async () => {
    const old = await forgottenVersion('STANDARD_IA');
    old.clock.advance(31 * DAY);
    const warned: unknown[] = [];
    expect(
      (await prune({ backend: old.memory, clock: old.clock, onEarlyDeletion: (c) => warned.push(c) }))
        .earlyDeletion,
    ).toBeUndefined();
    const hot = await forgottenVersion('STANDARD');
    const result = await prune({
      backend: hot.memory,
      clock: hot.clock,
      onEarlyDeletion: (c) => warned.push(c),
    });
    expect(result.deleted.objects).toBe(1);
    expect(warned).toEqual([]);
  });

  it('deletes archived objects without reading any content, and a dry run prices them and deletes nothing', async () => {
    const { clock, memory, content } = await forgottenVersion('STANDARD');
    for (const key of await content()) memory.archive(key, 'DEEP_ARCHIVE');
    clock.advance(100 * DAY);
    const counting = new CountingBackend(memory);
    const dry = await prune({ backend: counting, clock, dryRun: true });
    expect(dry.deleted.objects).toBe(1);
    expect(dry.earlyDeletion?.byClass.DEEP_ARCHIVE).toMatchObject({ objects: 1, minimumDays: 180 });
    expect(await content()).toHaveLength(3);
    const real = await prune({ backend: counting, clock });
    expect(real.deleted.objects).toBe(1);
    expect(real.failed).toEqual([]);
    // Only manifests and locks were read: an archived object cannot be, and need not be.
    expect(counting.snapshot().filter((c) => c.outcome === 'ARCHIVED')).toEqual([]);
    expect(await content()).toHaveLength(2);
  });
});
