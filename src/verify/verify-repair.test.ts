import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { replicatePass } from '../replicate/pass.js';
import { kindOfKey } from '../repository/layout.js';
import { openRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { parseReadSubset } from './read-subset.js';
import { repairRepository } from './repair.js';
import { verifyRepository } from './verify.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/** A repository of two snapshots and a whole replica of it; then four kinds of damage in the primary. */
async function damaged() {
  const primary = new MemoryBackend('memory://primary');
  const fixture = await replicationFixture(primary);
  cleanups.push(fixture.cleanup);
  await fixture.write({
    'flip.txt': 'flip these bytes',
    'gone.txt': 'to be deleted',
    'cut.txt': 'to be truncated',
  });
  await fixture.snapshot();
  await fixture.write({ 'later.txt': 'second snapshot' });
  await fixture.snapshot();
  const replica = new MemoryBackend('memory://replica');
  await replicatePass({ source: primary, destination: replica });
  const keys = await keysOf(primary);
  const key = (name: string) => keys.find((k) => k.endsWith(`/${name}`))!;
  const [first, second] = await listSnapshots(primary);
  await primary.put(key('flip.txt'), bodyFromBuffer('FLIP these bytes'));
  await primary.delete(key('gone.txt'));
  await primary.put(key('cut.txt'), bodyFromBuffer('to be'));
  await primary.put(second!.key, bodyFromBuffer('not a manifest'));
  return { primary, replica, fixture, key, first: first!, second: second! };
}

describe('verify and repair', () => {
  it('verify names each damaged object and manifest with the snapshots it hurts', async () => {
    const { primary, key, first, second } = await damaged();
    const metadata = await verifyRepository(primary);
    expect(metadata.problems.map((p) => [p.kind, p.key, p.snapshots])).toEqual(
      [
        ['damaged-manifest', second.key, [second.id]],
        ['wrong-size', key('cut.txt'), [first.id]],
        ['missing', key('gone.txt'), [first.id]],
      ].sort((a, b) => ((a[1] as string) < (b[1] as string) ? -1 : 1)),
    );
    const full = await verifyRepository(primary, { readData: parseReadSubset(true) });
    expect(full.problems.find((p) => p.kind === 'corrupt')).toMatchObject({
      key: key('flip.txt'),
      snapshots: [first.id],
    });
    expect(full.readData!.objects).toBeGreaterThan(0);
  });

  it('repair from the replica fixes the primary, checking every byte first; verify is then clean', async () => {
    const { primary, replica, fixture } = await damaged();
    const dry = await repairRepository(primary, replica, { dryRun: true, readData: parseReadSubset(true) });
    expect(dry.repaired).toHaveLength(4);
    expect((await verifyRepository(primary)).problems).toHaveLength(3);

    const result = await repairRepository(primary, replica, { readData: parseReadSubset(true) });
    expect(result.unrepaired).toEqual([]);
    expect(result.repaired).toHaveLength(4);
    expect((await verifyRepository(primary, { readData: parseReadSubset(true) })).problems).toEqual([]);
    expect(await fixture.expectSameRestores(replica)).toEqual({ snapshots: 2, allEqual: true });
  });

  it('the same the other way: a damaged replica healed from the primary', async () => {
    const primary = new MemoryBackend('memory://primary');
    const fixture = await replicationFixture(primary);
    cleanups.push(fixture.cleanup);
    await fixture.write({ 'a.txt': 'alpha' });
    await fixture.snapshot();
    const replica = new MemoryBackend('memory://replica');
    await replicatePass({ source: primary, destination: replica });
    const content = (await keysOf(replica)).find((k) => kindOfKey(k) === 'content')!;
    await replica.put(content, bodyFromBuffer('ALPHA'));
    expect((await verifyRepository(replica, { readData: parseReadSubset('1/1') })).problems).toHaveLength(1);
    await repairRepository(replica, primary, { readData: parseReadSubset(true) });
    expect((await readAll(await replica.get(content))).toString()).toBe('alpha');
  });

  it('never writes a healthy copy that fails its checksum too', async () => {
    const { primary, replica, key, second } = await damaged();
    await replica.put(key('gone.txt'), bodyFromBuffer('to be DELETED'));
    const result = await repairRepository(primary, replica);
    // ...nor the damaged manifest that needs it: never a manifest without its objects.
    expect(result.unrepaired).toEqual([
      { key: key('gone.txt'), message: expect.stringMatching(/fails its SHA-256 too/) },
      { key: second.key, message: '1 object(s) it references could not be repaired' },
    ]);
    expect(await keysOf(primary)).not.toContain(key('gone.txt'));
  });

  it('restore fetches what the damaged repository cannot give from the replica, and says so', async () => {
    const { primary, replica, fixture, key, second } = await damaged();
    const repository = await openRepository(primary);
    for (const ref of await listSnapshots(primary)) {
      const target = join(fixture.dir, `fallback-${ref.stamp}`);
      const summary = await restore({ repository, snapshot: ref, target, fallbacks: [replica] });
      expect(summary.fromReplica.length).toBeGreaterThan(0);
    }
    const events: string[] = [];
    await restore({
      repository,
      snapshot: second,
      target: join(fixture.dir, 'again'),
      fallbacks: [replica],
      onEvent: (e) => {
        if (e.type === 'fallback') events.push(e.key);
      },
    });
    // The damaged manifest itself came from the replica, then the three damaged objects.
    expect(events).toEqual(
      expect.arrayContaining([second.key, key('flip.txt'), key('gone.txt'), key('cut.txt')]),
    );
    expect(await fixture.latestRestoresAsFolder(replica)).toBe(true);
    await expect(
      restore({ repository, snapshot: second, target: join(fixture.dir, 'none') }),
    ).rejects.toThrow();
  });

  it('repairs a missing config and the objects a repaired manifest needs', async () => {
    const { primary, replica, key, second } = await damaged();
    await primary.delete('.twinvault/config.json');
    // The second snapshot's own object is gone too: only its (damaged) manifest says it is needed.
    await primary.delete(key('later.txt'));
    const result = await repairRepository(primary, replica, { readData: parseReadSubset(true) });
    expect(result.unrepaired).toEqual([]);
    expect(result.repaired).toEqual(
      expect.arrayContaining(['.twinvault/config.json', second.key, key('later.txt')]),
    );
    expect((await verifyRepository(primary, { readData: parseReadSubset(true) })).problems).toEqual([]);
  });

  it('read-data subsets n/m cover every object exactly once over m runs', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `laptop/20260101_000000/Documents/f${i}`);
    const seen = keys.map(
      (key) => [1, 2, 3].filter((n) => isSelectedFor(parseReadSubset(`${n}/3`), key)).length,
    );
    expect(seen.every((count) => count === 1)).toBe(true);
    expect(() => parseReadSubset('4/3')).toThrow(/give a percentage/);
  });
});

import { isSelected as isSelectedFor } from './read-subset.js';
