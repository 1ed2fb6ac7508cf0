import { describe, expect, it } from 'vitest';
import { applyPolicy, onlySource, type RetentionPolicy, type SnapshotFacts } from './policy.js';

const snap = (
  id: string,
  day: number,
  sources: string[],
  extra: Partial<SnapshotFacts> = {},
): SnapshotFacts => ({
  id,
  time: new Date(Date.UTC(2026, 10, day, 12)),
  host: 'laptop',
  sources,
  tags: [],
  ...extra,
});

/** Each group as "group: id keep|remove reasons", newest first. */
function golden(snapshots: SnapshotFacts[], policy: Parameters<typeof applyPolicy>[1]) {
  return applyPolicy(snapshots, policy).map(
    (g) =>
      `${JSON.stringify(g.group)}: ${g.decisions
        .map((d) => `${d.snapshot.id} ${d.keep ? `keep (${d.reasons.join('; ')})` : 'remove'}`)
        .join(', ')}`,
  );
}

/** The agent's one-source snapshots of two folders, and a manual backup of both on day 3. */
const laptop = [
  snap('docs1', 1, ['Documents']),
  snap('photos1', 1, ['photos']),
  snap('docs2', 2, ['Documents']),
  snap('manual3', 3, ['Documents', 'photos']),
  snap('docs4', 4, ['Documents']),
  snap('docs5', 5, ['Documents']),
];

describe('retention groups by host and source', () => {
  it("the agent's per-source snapshots and a manual backup of both folders: one group per source", () => {
    expect(golden(laptop, { last: 1 })).toEqual([
      '{"host":"laptop","source":"Documents"}: docs5 keep (latest; last), docs4 remove, manual3 keep (for source photos (latest, last)), docs2 remove, docs1 remove',
      '{"host":"laptop","source":"photos"}: manual3 keep (latest; last), photos1 remove',
    ]);
  });

  it('each source keeps its own newest snapshot, whatever else holds it', () => {
    expect(golden(laptop, { last: 2 })).toEqual([
      '{"host":"laptop","source":"Documents"}: docs5 keep (latest; last), docs4 keep (last), manual3 keep (for source photos (latest, last)), docs2 remove, docs1 remove',
      '{"host":"laptop","source":"photos"}: manual3 keep (latest; last), photos1 keep (last)',
    ]);
  });

  it('a source policy applies to its own group; a snapshot it lets go stays while another source needs it', () => {
    const policies: Record<string, RetentionPolicy> = { Documents: { last: 5 }, photos: { last: 1 } };
    const decided = applyPolicy(
      [...laptop, snap('photos6', 6, ['photos'])],
      (group) => policies[group.source!],
    );
    const photos = decided.find((g) => g.group.source === 'photos')!;
    expect(photos.decisions.map((d) => [d.snapshot.id, d.keep, d.reasons])).toEqual([
      ['photos6', true, ['latest', 'last']],
      ['manual3', true, ['for source Documents (last)']],
      ['photos1', false, []],
    ]);
  });

  it('forget --source thins one source only: the other keeps everything, shared snapshots too', () => {
    const decided = applyPolicy(laptop, onlySource({ last: 1 }, 'Documents'));
    expect(decided.flatMap((g) => g.decisions.filter((d) => !d.keep).map((d) => d.snapshot.id))).toEqual([
      'docs4',
      'docs2',
      'docs1',
    ]);
  });

  it('a snapshot of no source, or of one source named twice (hostile manifests), is still decided once per group', () => {
    const odd = [snap('none', 1, []), snap('twice', 2, ['a', 'a']), snap('a3', 3, ['a'])];
    expect(golden(odd, { last: 1 })).toEqual([
      '{"host":"laptop","source":""}: none keep (latest; last)',
      '{"host":"laptop","source":"a"}: a3 keep (latest; last), twice remove',
    ]);
  });

  it('over random repositories: the newest of every (host, source) stays, and a removal is agreed by every group', () => {
    let seed = 17;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const policies: RetentionPolicy[] = [
      { last: 1 },
      { daily: 2 },
      { weekly: 1, last: 2 },
      { tags: ['keep'] },
    ];
    for (let round = 0; round < 300; round++) {
      const snapshots = Array.from({ length: 1 + random(12) }, (_, i) => {
        const sources = ['Documents', 'photos', 'music'].filter(() => random(3) === 0);
        return snap(`s${i}`, 1 + random(20), sources.length > 0 ? sources : ['Documents'], {
          host: random(4) === 0 ? 'desk' : 'laptop',
          tags: random(5) === 0 ? ['keep'] : [],
        });
      });
      const decided = applyPolicy(snapshots, policies[random(policies.length)]!);
      const verdicts = new Map<string, boolean>();
      for (const { decisions } of decided) {
        for (const d of decisions) {
          expect(verdicts.get(d.snapshot.id) ?? d.keep).toBe(d.keep);
          verdicts.set(d.snapshot.id, d.keep);
        }
      }
      for (const host of ['laptop', 'desk']) {
        for (const source of ['Documents', 'photos', 'music']) {
          const holders = snapshots
            .filter((s) => s.host === host && s.sources.includes(source))
            .sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1));
          if (holders[0]) expect(verdicts.get(holders[0].id)).toBe(true);
        }
      }
    }
  });
});
