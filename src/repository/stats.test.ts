import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replicationFixture } from '../../test/replication-fixture.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
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
    expect(stats.total.byStorageClass).toEqual({ STANDARD: { objects: 8, bytes: stats.total.storedBytes } });
    // At a made-up 1024 USD per GiB-month: one dollar per MiB.
    expect(stats.total.estimatedMonthlyCostUsd).toBeCloseTo((stats.total.storedBytes / 1024 ** 3) * 1024, 4);
  });
});
