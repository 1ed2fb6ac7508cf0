import { afterEach, describe, expect, it } from 'vitest';
import { replicationFixture } from '../../test/replication-fixture.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
});

describe('restore of long names', () => {
  it('restores files whose names reach the 255-byte limit, small and large', async () => {
    const backend = new MemoryBackend('memory://long-names');
    const fixture = await replicationFixture(backend);
    cleanup = fixture.cleanup;
    await fixture.write({
      [`${'s'.repeat(251)}.txt`]: 'small',
      [`${'l'.repeat(251)}.bin`]: 'x'.repeat(2 * 1024 * 1024),
    });
    await fixture.snapshot();
    expect(await fixture.latestRestoresAsFolder(backend)).toBe(true);
  });
});
