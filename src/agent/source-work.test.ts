import { describe, expect, it } from 'vitest';
import { nextFullScan } from './schedule.js';
import { SourceWork } from './source-work.js';

const settings = { quietPeriod: 2000, maxDelay: 60_000 };
const retry = { min: 5000, max: 300_000 };

describe('SourceWork', () => {
  it('owes a full scan at start, then the next scheduled one', () => {
    const work = new SourceWork(3_600_000);
    expect(work.dueAt(settings)).toBe(0);
    expect(work.take(10)).toEqual({ full: true, paths: [] });
    work.succeeded({ full: true, paths: [] }, 3_600_010);
    expect(work.dueAt(settings)).toBe(3_600_010);
    expect(work.take(3_600_010).full).toBe(true);
  });

  it('waits for a quiet period after the last change, but no longer than maxDelay after the first', () => {
    const work = new SourceWork(10_000_000);
    work.take(0);
    work.noteChange('/a', 1000);
    expect(work.dueAt(settings)).toBe(3000);
    work.noteChange('/b', 2500);
    expect(work.dueAt(settings)).toBe(4500);
    for (let t = 4000; t < 100_000; t += 1000) work.noteChange('/busy', t); // never quiet
    expect(work.dueAt(settings)).toBe(61_000);
    expect(work.take(61_000)).toEqual({ full: false, paths: ['/a', '/b', '/busy'] });
    expect(work.pendingChanges).toBe(0);
    expect(work.dueAt(settings)).toBe(10_000_000);
  });

  it('keeps a failed run owed and backs off, doubling up to the maximum', () => {
    const work = new SourceWork(10_000_000);
    work.take(0);
    work.noteChange('/a', 0);
    let now = 2000;
    const waits: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const run = work.take(now);
      expect(run.paths).toEqual(['/a']);
      work.failed(run, now, retry);
      waits.push(work.dueAt(settings)! - now);
      now = work.dueAt(settings)!;
    }
    expect(waits).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    work.noteChange('/b', now);
    const run = work.take(now);
    expect(run.paths.sort()).toEqual(['/a', '/b']);
    work.succeeded(run, undefined);
    expect(work.consecutiveFailures).toBe(0);
    expect(work.retryAt).toBeUndefined();
  });

  it('owes a full scan again when one fails or the watcher loses events', () => {
    const work = new SourceWork(10_000_000);
    const run = work.take(0);
    work.failed(run, 0, retry);
    expect(work.take(5000).full).toBe(true);
    work.succeeded({ full: true, paths: [] }, 10_000_000);
    work.requestFullScan();
    expect(work.dueAt(settings)).toBe(0);
  });
});

describe('nextFullScan', () => {
  it('adds an interval, or finds the next cron time', () => {
    const last = new Date('2026-11-26T10:17:30');
    expect(nextFullScan({ every: 60_000 }, last)).toEqual(new Date('2026-11-26T10:18:30'));
    expect(nextFullScan({ cron: '0 * * * *' }, last)).toEqual(new Date('2026-11-26T11:00:00'));
    expect(nextFullScan({ cron: '30 2 * * *' }, last)).toEqual(new Date('2026-11-27T02:30:00'));
  });
});
