import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { kindOfKey } from './layout.js';
import { ManifestCache } from './manifest-cache.js';
import { repositoryStats } from './stats.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
});

describe('repositoryStats', () => {
  it('counts snapshots, logical and stored bytes per host, what dedup saved, and a monthly cost', async () => {
    const backend = new MemoryBackend('memory://stats');
    const fixture = await replicationFixture(backend);
    cleanup = fixture.cleanup;
    const big = 'x'.repeat(1000);
    for (const round of [1, 2, 3]) {
      await fixture.write({ 'big.txt': big, 'small.txt': `v${round}` });
      await fixture.snapshot();
    }
    const stats = await repositoryStats(backend, new ManifestCache(join(fixture.dir, 'cache')), {
      STANDARD: 1024,
    });
    expect(stats.hosts).toEqual([
      {
        host: 'laptop',
        snapshots: 3,
        files: 2,
        logicalBytes: 3 * (1000 + 2),
        objects: 4,
        storedBytes: 1000 + 3 * 2,
      },
    ]);
    expect(stats.total).toMatchObject({ snapshots: 3, logicalBytes: 3006, dedupSavedBytes: 3006 - 1006 });
    // Three manifests and the config besides the four content objects.
    expect(stats.total.objects).toBe(8);
    expect(stats.total.byStorageClass).toEqual({
      STANDARD: { objects: 8, bytes: stats.total.storedBytes, billedBytes: stats.total.storedBytes },
    });
    // At a made-up 1024 USD per GiB-month: one dollar per MiB.
    expect(stats.total.estimatedMonthlyCostUsd).toBeCloseTo((stats.total.storedBytes / 1024 ** 3) * 1024, 4);
  });
  it('one damaged manifest leaves that snapshot out, named, and the others counted', async () => {
    const backend = new MemoryBackend('memory://stats-damaged');
    const fixture = await replicationFixture(backend);
    cleanup = fixture.cleanup;
    for (const round of [1, 2, 3]) {
      await fixture.write({ 'a.txt': `v${round}` });
      await fixture.snapshot();
    }
    const manifests = (await keysOf(backend)).filter((key) => kindOfKey(key) === 'manifest');
    await backend.put(manifests[1]!, bodyFromBuffer('not a manifest'));
    const stats = await repositoryStats(backend, new ManifestCache(join(fixture.dir, 'fresh')));
    expect(stats.hosts).toEqual([expect.objectContaining({ host: 'laptop', snapshots: 2 })]);
    expect(stats.unreadable.map(({ ref }) => ref.key)).toEqual([manifests[1]]);
    expect(stats.unreadable[0]!.error.message).toContain('is damaged');
  });

  it('prices cold classes as AWS bills them: 128 KB minimums and 40 KB per archived object', async () => {
    const backend = new MemoryBackend('memory://stats-cold', undefined, { storageClass: 'STANDARD_IA' });
    const fixture = await replicationFixture(backend);
    cleanup = fixture.cleanup;
    await fixture.write({ 'a.txt': 'a'.repeat(1000), 'b.txt': 'b'.repeat(1000), 'c.txt': 'c'.repeat(1000) });
    await fixture.snapshot();
    const content = (await keysOf(backend)).filter((key) => kindOfKey(key) === 'content');
    backend.archive(content[2]!, 'DEEP_ARCHIVE');
    const stats = await repositoryStats(backend, new ManifestCache(join(fixture.dir, 'cache')), {
      STANDARD: 1024,
      STANDARD_IA: 1024,
      DEEP_ARCHIVE: 1024,
    });
    const { byStorageClass } = stats.total;
    expect(byStorageClass.STANDARD_IA).toEqual({ objects: 2, bytes: 2000, billedBytes: 2 * 128 * 1024 });
    expect(byStorageClass.DEEP_ARCHIVE).toEqual({ objects: 1, bytes: 1000, billedBytes: 1000 + 32 * 1024 });
    const metadata = byStorageClass.STANDARD!;
    expect(metadata.objects).toBe(2); // config and manifest, never cold
    // At 1,024 USD per GiB-month, one dollar per MiB: 256 KiB + (1000 B + 32 KiB) + 8 KiB + metadata.
    const expected = (2 * 128 * 1024 + 1000 + 32 * 1024 + 8 * 1024 + metadata.bytes) / 1024 ** 2;
    expect(stats.total.estimatedMonthlyCostUsd).toBeCloseTo(expected, 4);
    // A bytes-only estimate would have said about a hundredth of that.
    expect(stats.total.estimatedMonthlyCostUsd / (stats.total.storedBytes / 1024 ** 2 || 1)).toBeGreaterThan(
      50,
    );
  });
});
