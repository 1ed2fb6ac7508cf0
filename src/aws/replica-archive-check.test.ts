import { describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { initRepository } from '../repository/repository.js';
import { checkReplicasBeforeArchive } from './replica-archive-check.js';

const DAY = 86_400_000;

/** A repository with one object written 40 days ago and one 10 days ago; now is `clock.now()`. */
async function setup() {
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const source = new MemoryBackend('memory://archive-source', () => clock.now());
  await initRepository(source, { clock });
  await source.put('laptop/20260101_000000/old.txt', bodyFromBuffer('old'));
  clock.advance(30 * DAY);
  await source.put('laptop/20260131_000000/new.txt', bodyFromBuffer('new'));
  clock.advance(10 * DAY);
  return { clock, source };
}

describe('checkReplicasBeforeArchive', () => {
  it('finds a replica at risk when it lacks what the rule would archive within a week', async () => {
    const { clock, source } = await setup();
    const empty = new MemoryBackend('memory://empty-replica');
    const open = async () => empty;
    // Archived after 45 days: the 40-day-old object goes in 5 days.
    const [soon] = await checkReplicasBeforeArchive(source, [{ url: 'r', open }], 45, clock.now());
    expect(soon).toMatchObject({ url: 'r', atRisk: true, behind: { objects: 2 } });
    expect(soon!.behind!.oldest.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    // After 60 days: three weeks to copy it, which a working replica does in minutes.
    const [later] = await checkReplicasBeforeArchive(source, [{ url: 'r', open }], 60, clock.now());
    expect(later).toMatchObject({ atRisk: false, behind: { objects: 2 } });
  });

  it('finds a current replica safe, and says when a replica cannot be checked', async () => {
    const { clock, source } = await setup();
    const current = new MemoryBackend('memory://current-replica');
    for await (const object of source.list()) await current.copy(object.key, object.key, { from: source });
    const checks = await checkReplicasBeforeArchive(
      source,
      [
        { url: 'current', open: async () => current },
        {
          url: 'broken',
          open: async () => {
            throw new (await import('../errors.js')).StorageUnreachableError('cannot reach it');
          },
        },
      ],
      30,
      clock.now(),
    );
    expect(checks).toEqual([
      { url: 'current', atRisk: false },
      { url: 'broken', atRisk: false, error: 'cannot reach it' },
    ]);
  });
});
