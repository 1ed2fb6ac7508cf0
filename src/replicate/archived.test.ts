import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { kindOfKey } from '../repository/layout.js';
import { replicatePass } from './pass.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

describe('replication and archived objects', () => {
  it('reports each archived object it cannot copy, goes on with the others, and holds the snapshot back', async () => {
    const clock = new ManualClock(new Date(Date.now() + 3_600_000));
    const source = new MemoryBackend('memory://archived-source', () => clock.now());
    const fixture = await replicationFixture(source);
    cleanups.push(fixture.cleanup);
    // More archived objects than the failures in a row that stop a pass (25).
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`old/${String(i).padStart(2, '0')}.txt`] = `old file ${i}`;
    await fixture.write(files);
    await fixture.snapshot();
    const old = (await keysOf(source)).filter((key) => kindOfKey(key) === 'content');
    for (const key of old) source.archive(key, 'DEEP_ARCHIVE');
    await fixture.write({ 'new.txt': 'written after the transition' });
    await fixture.snapshot();

    const replica = new MemoryBackend('memory://late-replica');
    const summary = await replicatePass({ source, destination: replica });
    expect(summary.objects).toMatchObject({ copied: 1, failed: 30 }); // new.txt
    expect(summary.manifests).toEqual({ copied: 0, held: 2 });
    const archivedProblem = summary.problems.find((p) => p.key === old[0]);
    expect(archivedProblem?.message).toMatch(
      /^".*" is archived \(DEEP_ARCHIVE\) in memory:\/\/archived-source, which S3 cannot copy: it was archived before this replica got it$/,
    );
    expect(await keysOf(replica)).toContain((await keysOf(source)).find((key) => key.endsWith('/new.txt')));

    // Once restored in the repository, the next pass copies them, and the snapshots follow.
    for (const key of old) await source.requestRestore(key, { tier: 'Standard', days: 1 });
    clock.advance(13 * 3_600_000);
    const again = await replicatePass({ source, destination: replica, clock });
    expect(again.objects).toMatchObject({ copied: 32, failed: 0 }); // the 30 and both manifests
    expect(again.manifests).toEqual({ copied: 2, held: 0 });
    expect(await fixture.expectSameRestores(replica)).toEqual({ snapshots: 2, allEqual: true });
  });
});
