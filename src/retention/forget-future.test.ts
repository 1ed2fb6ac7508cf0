import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileEntry, putManifest } from '../../test/manifests.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { listSnapshots } from '../repository/snapshots.js';
import { forget } from './forget.js';
import { parseKeepWithin } from './keep-within.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-future-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('forget and a snapshot from the future', () => {
  it('--keep-within 7d keeps the real snapshots of the last week beside a forged one dated 2031', async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-03-20T12:00:00Z');
    for (let day = 1; day <= 19; day++) {
      await putManifest(backend, 'laptop', `202603${String(day).padStart(2, '0')}_090000`, [
        fileEntry('src/a'),
      ]);
    }
    // A forged manifest (or a host whose clock is years ahead): its header time says 2031.
    await putManifest(backend, 'laptop', '20310101_000000', [fileEntry('src/a')]);
    const result = await forget({
      backend,
      cache: new ManifestCache(join(dir, 'cache')),
      policy: { within: parseKeepWithin('7d') },
      clock,
    });
    const left = (await listSnapshots(backend)).map((ref) => ref.stamp);
    expect(left).toEqual([
      '20260313_090000',
      '20260314_090000',
      '20260315_090000',
      '20260316_090000',
      '20260317_090000',
      '20260318_090000',
      '20260319_090000',
      '20310101_000000',
    ]);
    expect(result.groups[0]!.decisions[0]).toMatchObject({ keep: true, future: true });
  });
});
