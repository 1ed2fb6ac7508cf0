import { describe, expect, it } from 'vitest';
import { parseKeepWithin } from './keep-within.js';
import { applyPolicy, FUTURE_TOLERANCE_MS, type RetentionPolicy, type SnapshotFacts } from './policy.js';

const at = (time: string, extra: Partial<SnapshotFacts> = {}): SnapshotFacts => ({
  id: time,
  time: new Date(time),
  host: 'laptop',
  sources: ['Documents'],
  tags: [],
  ...extra,
});

const NOW = new Date('2026-03-20T12:00:00Z');

/** "id: reasons" of every snapshot, newest first ("-" when removed, "(future)" when marked so). */
function decided(snapshots: SnapshotFacts[], policy: RetentionPolicy, now: Date | null = NOW) {
  return applyPolicy(snapshots, policy, undefined, now ?? undefined).flatMap((group) =>
    group.decisions.map(
      (d) => `${d.snapshot.id}: ${d.keep ? d.reasons.join(', ') : '-'}${d.future ? ' (future)' : ''}`,
    ),
  );
}

/** A snapshot a day for the ten days before NOW. */
const tenDays = Array.from({ length: 10 }, (_, i) =>
  at(`2026-03-${String(10 + i).padStart(2, '0')}T09:00:00Z`),
);

describe('retention policy: snapshots from the future (golden cases)', () => {
  it('one snapshot dated years ahead does not make --keep-within remove the real ones', () => {
    const forged = at('2031-01-01T00:00:00Z');
    expect(decided([...tenDays, forged], { within: parseKeepWithin('3d') })).toEqual([
      '2031-01-01T00:00:00Z: future (future)',
      '2026-03-19T09:00:00Z: latest, within',
      '2026-03-18T09:00:00Z: within',
      '2026-03-17T09:00:00Z: within',
      '2026-03-16T09:00:00Z: -',
      '2026-03-15T09:00:00Z: -',
      '2026-03-14T09:00:00Z: -',
      '2026-03-13T09:00:00Z: -',
      '2026-03-12T09:00:00Z: -',
      '2026-03-11T09:00:00Z: -',
      '2026-03-10T09:00:00Z: -',
    ]);
  });

  it('without the clock (as before), the forged snapshot is the newest and everything real goes', () => {
    const forged = at('2031-01-01T00:00:00Z');
    const kept = decided([...tenDays, forged], { within: parseKeepWithin('7d') }, null).filter(
      (line) => !line.endsWith('-'),
    );
    expect(kept).toEqual(['2031-01-01T00:00:00Z: latest, within']);
  });

  it('snapshots from the future take no --keep-last or calendar slot: they are kept, and the real ones judged', () => {
    const ahead = [at('2026-03-25T00:00:00Z'), at('2026-03-26T00:00:00Z')];
    expect(decided([...tenDays.slice(-3), ...ahead], { last: 1 })).toEqual([
      '2026-03-26T00:00:00Z: future (future)',
      '2026-03-25T00:00:00Z: future (future)',
      '2026-03-19T09:00:00Z: latest, last',
      '2026-03-18T09:00:00Z: -',
      '2026-03-17T09:00:00Z: -',
    ]);
    expect(decided([...tenDays.slice(-3), at('2031-01-01T00:00:00Z')], { daily: 2 })).toEqual([
      '2031-01-01T00:00:00Z: future (future)',
      '2026-03-19T09:00:00Z: latest, daily',
      '2026-03-18T09:00:00Z: daily',
      '2026-03-17T09:00:00Z: -',
    ]);
  });

  it('a laptop that was off for three weeks keeps its history: within counts from its newest snapshot', () => {
    const now = new Date('2026-04-10T12:00:00Z');
    expect(decided(tenDays.slice(-4), { within: parseKeepWithin('2d') }, now)).toEqual([
      '2026-03-19T09:00:00Z: latest, within',
      '2026-03-18T09:00:00Z: within',
      '2026-03-17T09:00:00Z: -',
      '2026-03-16T09:00:00Z: -',
    ]);
  });

  it('up to 15 minutes ahead is clock drift, not the future', () => {
    const drift = new Date(NOW.getTime() + FUTURE_TOLERANCE_MS).toISOString();
    const beyond = new Date(NOW.getTime() + FUTURE_TOLERANCE_MS + 1000).toISOString();
    expect(decided([at(drift)], { last: 1 })).toEqual([`${drift}: latest, last`]);
    expect(decided([at(beyond)], { last: 1 })).toEqual([`${beyond}: latest, last (future)`]);
  });

  it('when every snapshot is from the future (one wrong clock wrote them all), within counts from the newest', () => {
    const all = ['2030-01-01', '2030-01-05', '2030-01-09'].map((day) => at(`${day}T00:00:00Z`));
    expect(decided(all, { within: parseKeepWithin('5d') })).toEqual([
      '2030-01-09T00:00:00Z: latest, within (future)',
      '2030-01-05T00:00:00Z: within (future)',
      '2030-01-01T00:00:00Z: - (future)',
    ]);
  });

  it('groups without a policy keep everything, and still mark the future', () => {
    const decisions = applyPolicy([at('2030-01-01T00:00:00Z'), tenDays[0]!], () => undefined, undefined, NOW);
    expect(decisions[0]!.decisions.map((d) => [d.keep, d.reasons, d.future])).toEqual([
      [true, ['no policy'], true],
      [true, ['no policy'], undefined],
    ]);
  });
});
