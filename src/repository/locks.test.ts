import { describe, expect, it } from 'vitest';
import { readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { LOCK_REFRESH_MS, RepositoryLock } from './locks.js';

describe('RepositoryLock', () => {
  it('is refreshed while held in time', async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock();
    const lock = await RepositoryLock.acquire(backend, 'shared', 'backup', clock);
    clock.advance(LOCK_REFRESH_MS + 1000);
    await lock.ensureHeld();
    const info = JSON.parse((await readAll(await backend.get(lock.key))).toString());
    expect(Date.parse(info.expires)).toBe(clock.now().getTime() + 30 * 60_000);
    await lock.release();
  });

  it('once not refreshed for too long (a sleeping laptop), is never written again and fails its holder', async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock();
    const lock = await RepositoryLock.acquire(backend, 'shared', 'backup', clock);
    const written = (await backend.head(lock.key)).etag;
    clock.advance(26 * 60_000);
    // A prune elsewhere may have taken it as stale (within the margin for clock skew) and deleted it.
    await lock.refresh();
    expect((await backend.head(lock.key)).etag).toBe(written);
    await expect(lock.ensureHeld()).rejects.toThrow(/was not refreshed for 26 minutes/);
    await lock.release();
  });
});
