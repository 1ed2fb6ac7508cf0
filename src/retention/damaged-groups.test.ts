import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../errors.js';
import type { ManifestHeader } from '../repository/manifest.js';
import type { DamagedManifest } from '../repository/manifest-check.js';
import { refFor, type SnapshotRef } from '../repository/snapshots.js';
import { refuseDamagedInThinnedGroups } from './damaged-groups.js';
import { applyPolicy, type SnapshotFacts } from './policy.js';

const factsOf = (ref: SnapshotRef, header: Pick<ManifestHeader, 'host' | 'sources' | 'tags' | 'time'>) => ({
  id: ref.id,
  time: new Date(header.time),
  host: header.host,
  sources: header.sources.map((source) => source.name),
  tags: header.tags,
});

/** Three snapshots of `source` on laptop, a day apart. */
const three = (source: string): SnapshotFacts[] =>
  ['01', '02', '03'].map((day) =>
    factsOf(refFor('laptop', `202601${day}_000000`), {
      host: 'laptop',
      sources: [{ name: source, path: `/${source}` }],
      tags: [],
      time: `2026-01-${day}T00:00:00Z`,
    }),
  );

const damaged = (host: string, sources?: string[]): DamagedManifest => {
  const ref = refFor(host, '20260104_000000');
  return {
    ref,
    error: new IntegrityError(`manifest ${ref.key} is damaged: it is cut short`),
    ...(sources
      ? {
          header: {
            host,
            sources: sources.map((name) => ({ name, path: `/${name}` })),
            tags: [],
            time: '2026-01-04T00:00:00Z',
          } as unknown as ManifestHeader,
        }
      : {}),
  };
};

/** Documents would be thinned (three snapshots, keep 1); Pictures has one snapshot only. */
const groups = applyPolicy([...three('Documents'), ...three('Pictures').slice(0, 1)], { last: 1 });
const refuse = (manifest: DamagedManifest) => () =>
  refuseDamagedInThinnedGroups(groups, [manifest], { last: 1 }, undefined, factsOf);

describe('forget refuses to thin a group that holds a damaged manifest', () => {
  it('in the group it would thin: refused, naming the manifest', () => {
    expect(refuse(damaged('laptop', ['Documents']))).toThrow(/laptop\/20260104_000000.json.gz \(manifest/);
  });
  it('in a group it leaves alone: allowed', () => {
    expect(refuse(damaged('laptop', ['Pictures']))).not.toThrow();
  });
  it('a snapshot of two sources, one of them thinned: refused', () => {
    expect(refuse(damaged('laptop', ['Pictures', 'Documents']))).toThrow(IntegrityError);
  });
  it('no readable header: refused when any group of its host is thinned, not for another host', () => {
    expect(refuse(damaged('laptop'))).toThrow(/forget changed nothing/);
    expect(refuse(damaged('desk'))).not.toThrow();
  });
});
