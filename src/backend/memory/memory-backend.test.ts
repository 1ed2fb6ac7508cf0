import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { bodyFromBuffer, readAll } from '../body.js';
import { describeBackendConformance } from '../testing/conformance.js';
import { MemoryBackend } from './memory-backend.js';

describeBackendConformance('memory', async () => ({ backend: new MemoryBackend() }), {
  largeObjectSize: 12 * 1024 * 1024 + 123,
  largeCopySize: 11 * 1024 * 1024,
});

describe('memory backend: archived objects (a simulated lifecycle transition)', () => {
  const HOUR = 3_600_000;
  async function archived(storageClass = 'GLACIER') {
    const clock = new ManualClock(new Date('2026-03-01T00:00:00Z'));
    const backend = new MemoryBackend('memory://archive', () => clock.now());
    await backend.put('laptop/s/a.txt', bodyFromBuffer('alpha'));
    backend.archive('laptop/s/a.txt', storageClass);
    return { clock, backend };
  }

  it('refuses to read or copy an archived object, with a hint; listing and HEAD still work', async () => {
    const { backend } = await archived();
    const error = await backend.get('laptop/s/a.txt').catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'ARCHIVED' });
    expect((error as { hint: string }).hint).toContain('--request-archived');
    await expect(backend.copy('laptop/s/a.txt', 'laptop/s/b.txt')).rejects.toMatchObject({
      code: 'ARCHIVED',
    });
    const other = new MemoryBackend('memory://other');
    await expect(other.copy('laptop/s/a.txt', 'x', { from: backend })).rejects.toMatchObject({
      code: 'ARCHIVED',
    });
    const [listed] = await collect(backend.list('laptop/'));
    expect(listed).toMatchObject({ storageClass: 'GLACIER', archive: { restore: 'unknown' } });
    expect((await backend.head('laptop/s/a.txt')).archive).toEqual({ restore: 'none' });
  });

  it('restores in the time S3 gives the tier, keeps the copy for the days asked, then archives again', async () => {
    const { clock, backend } = await archived('DEEP_ARCHIVE');
    expect(await backend.requestRestore('laptop/s/a.txt', { tier: 'Bulk', days: 2 })).toBe('started');
    expect(await backend.requestRestore('laptop/s/a.txt', { tier: 'Bulk', days: 2 })).toBe('in-progress');
    expect((await backend.head('laptop/s/a.txt')).archive).toEqual({ restore: 'in-progress' });
    clock.advance(47 * HOUR);
    await expect(backend.get('laptop/s/a.txt')).rejects.toMatchObject({ code: 'ARCHIVED' });
    clock.advance(HOUR);
    expect((await backend.head('laptop/s/a.txt')).archive).toEqual({
      restore: 'restored',
      restoredUntil: new Date(clock.now().getTime() + 48 * HOUR),
    });
    expect((await readAll(await backend.get('laptop/s/a.txt'))).toString()).toBe('alpha');
    // Asking again keeps the copy longer, from now.
    clock.advance(HOUR);
    expect(await backend.requestRestore('laptop/s/a.txt', { tier: 'Bulk', days: 1 })).toBe('restored');
    clock.advance(24 * HOUR);
    expect((await backend.head('laptop/s/a.txt')).archive).toEqual({ restore: 'none' });
    await expect(backend.get('laptop/s/a.txt')).rejects.toMatchObject({ code: 'ARCHIVED' });
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
