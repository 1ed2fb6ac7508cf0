import { describe, expect, it } from 'vitest';
import { parseKeepWithin } from './keep-within.js';
import { applyPolicy, type RetentionPolicy, type SnapshotFacts } from './policy.js';

const at = (time: string, extra: Partial<SnapshotFacts> = {}): SnapshotFacts => ({
  id: time,
  time: new Date(time),
  host: 'laptop',
  sources: ['Documents'],
  tags: [],
  ...extra,
});

/** "id: reasons" of kept snapshots, newest first, over every group. */
function kept(
  snapshots: SnapshotFacts[],
  policy: RetentionPolicy,
  groupBy?: Parameters<typeof applyPolicy>[2],
) {
  return applyPolicy(snapshots, policy, groupBy).flatMap((group) =>
    group.decisions.filter((d) => d.keep).map((d) => `${d.snapshot.id}: ${d.reasons.join(', ')}`),
  );
}

describe('retention policy: golden cases', () => {
  it('nothing to decide for no snapshots; a single snapshot is always kept', () => {
    expect(applyPolicy([], { last: 1 })).toEqual([]);
    expect(kept([at('2026-01-01T00:00:00Z')], { tags: ['none'] })).toEqual(['2026-01-01T00:00:00Z: latest']);
  });

  it('last N keeps the N newest', () => {
    const list = ['01', '02', '03', '04', '05'].map((d) => at(`2026-01-${d}T00:00:00Z`));
    expect(kept(list, { last: 3 })).toEqual([
      '2026-01-05T00:00:00Z: latest, last',
      '2026-01-04T00:00:00Z: last',
      '2026-01-03T00:00:00Z: last',
    ]);
  });

  it('hourly keeps the newest snapshot of each of the N newest hours that have one', () => {
    const list = ['10:05', '10:30', '11:10', '12:00', '12:50'].map((t) => at(`2026-03-01T${t}:00Z`));
    expect(kept(list, { hourly: 2 })).toEqual([
      '2026-03-01T12:50:00Z: latest, hourly',
      '2026-03-01T11:10:00Z: hourly',
    ]);
  });

  it('daily skips days without snapshots (buckets, not calendar days back)', () => {
    const list = [
      '2026-03-01T08:00:00Z',
      '2026-03-01T20:00:00Z',
      '2026-03-04T09:00:00Z',
      '2026-03-09T10:00:00Z',
    ].map((t) => at(t));
    expect(kept(list, { daily: 3 })).toEqual([
      '2026-03-09T10:00:00Z: latest, daily',
      '2026-03-04T09:00:00Z: daily',
      '2026-03-01T20:00:00Z: daily',
    ]);
  });

  it('weekly uses ISO weeks, across the turn of the year', () => {
    // 2025-12-29 (Monday) and 2026-01-01 (Thursday) are both in 2026-W01; 2025-12-28 is 2025-W52.
    const list = [
      '2025-12-28T12:00:00Z',
      '2025-12-29T12:00:00Z',
      '2026-01-01T12:00:00Z',
      '2026-01-05T12:00:00Z',
    ].map((t) => at(t));
    expect(kept(list, { weekly: 3 })).toEqual([
      '2026-01-05T12:00:00Z: latest, weekly',
      '2026-01-01T12:00:00Z: weekly',
      '2025-12-28T12:00:00Z: weekly',
    ]);
  });

  it('monthly and yearly together, each rule giving its reason', () => {
    const list = ['2024-06-15', '2025-11-30', '2025-12-01', '2025-12-31', '2026-01-02'].map((d) =>
      at(`${d}T00:00:00Z`),
    );
    expect(kept(list, { monthly: 2, yearly: 3 })).toEqual([
      '2026-01-02T00:00:00Z: latest, monthly, yearly',
      '2025-12-31T00:00:00Z: monthly, yearly',
      '2024-06-15T00:00:00Z: yearly',
    ]);
  });

  it('within counts back from the newest snapshot, not from now; minutes and calendar months', () => {
    const list = [
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:58:00Z',
      '2026-01-01T00:59:30Z',
      '2026-01-01T01:00:00Z',
    ].map((t) => at(t));
    expect(kept(list, { within: parseKeepWithin('2m') })).toEqual([
      '2026-01-01T01:00:00Z: latest, within',
      '2026-01-01T00:59:30Z: within',
    ]);
    const months = ['2025-10-31T00:00:00Z', '2025-11-30T00:00:00Z', '2026-01-31T00:00:00Z'].map((t) => at(t));
    // One month before 2026-01-31 is 2025-12-31: 2025-11-30 is older.
    expect(kept(months, { within: parseKeepWithin('1mo') })).toEqual([
      '2026-01-31T00:00:00Z: latest, within',
    ]);
    expect(kept(months, { within: parseKeepWithin('1y') })).toHaveLength(3);
  });

  it('tags keep what carries any of them', () => {
    const list = [
      at('2026-01-01T00:00:00Z', { tags: ['monthly'] }),
      at('2026-01-02T00:00:00Z'),
      at('2026-01-03T00:00:00Z'),
    ];
    expect(kept(list, { tags: ['monthly', 'other'] })).toEqual([
      '2026-01-03T00:00:00Z: latest',
      '2026-01-01T00:00:00Z: tag monthly',
    ]);
  });

  it('groups by host and sources: each group keeps its own latest and counts its own buckets', () => {
    const list = [
      at('2026-01-01T00:00:00Z', { id: 'a1' }),
      at('2026-01-02T00:00:00Z', { id: 'a2' }),
      at('2026-01-01T00:00:00Z', { id: 'b1', host: 'desk' }),
      at('2026-01-03T00:00:00Z', { id: 'c1', sources: ['Pictures'] }),
    ];
    expect(kept(list, { last: 1 })).toEqual(['a2: latest, last', 'b1: latest, last', 'c1: latest, last']);
    expect(kept(list, { last: 1 }, [])).toEqual(['c1: latest, last']);
    expect(applyPolicy(list, { last: 1 }, ['host']).map((g) => g.group)).toEqual([
      { host: 'laptop' },
      { host: 'desk' },
    ]);
  });

  it('parses durations down to seconds and refuses anything else', () => {
    expect(parseKeepWithin('90s')).toEqual({ years: 0, months: 0, ms: 90_000 });
    expect(parseKeepWithin('36h')).toEqual({ years: 0, months: 0, ms: 36 * 3_600_000 });
    expect(parseKeepWithin('1y2mo3w')).toEqual({ years: 1, months: 2, ms: 21 * 86_400_000 });
    expect(parseKeepWithin('1y2m')).toEqual({ years: 1, months: 0, ms: 120_000 });
    expect(() => parseKeepWithin('7 days')).toThrow(/is not a duration/);
    expect(() => parseKeepWithin('')).toThrow(/is not a duration/);
  });
});
