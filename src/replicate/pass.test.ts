import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import type { Backend } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { FaultyBackend } from '../backend/testing/faulty-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ForwardingBackend, type Operation } from '../backend/wrap/forwarding.js';
import { ManualClock } from '../clock.js';
import { NotFoundError, StorageUnreachableError } from '../errors.js';
import { CONFIG_KEY, kindOfKey } from '../repository/layout.js';
import { initRepository } from '../repository/repository.js';
import type { ReplicationEvent } from './events.js';
import { replicatePass } from './pass.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function setup() {
  const source = new MemoryBackend('memory://primary');
  const fixture = await replicationFixture(source);
  cleanups.push(fixture.cleanup);
  await fixture.write({ 'a.txt': 'alpha', 'b/c.txt': 'charlie', 'b/d.txt': 'delta' });
  await fixture.snapshot();
  await fixture.write({ 'a.txt': 'alpha two', 'e.txt': 'echo' });
  await fixture.snapshot();
  return { source, fixture };
}

/**
 * A mirroring pass ten minutes from now: deletes spare what was written within minutes of a pass
 * (it may be a live copy), and the tests' objects were all written just now.
 */
function mirrorLater(source: Backend, replica: Backend) {
  const later = new ManualClock(new Date(Date.now() + 600_000));
  return replicatePass({ source, destination: replica, deletes: { policy: 'mirror' }, clock: later });
}

describe('replicatePass', () => {
  it('copies the repository so the replica restores every snapshot exactly; a second pass copies nothing', async () => {
    const { source, fixture } = await setup();
    const replica = new CountingBackend(new MemoryBackend('memory://replica'));
    const events: ReplicationEvent[] = [];
    const first = await replicatePass({ source, destination: replica, onEvent: (e) => events.push(e) });
    expect(first.objects).toMatchObject({ copied: 7, failed: 0, vanished: 0 });
    expect(first.manifests.copied).toBe(2);
    expect(first.behind.objects).toBe(7);
    expect((await keysOf(replica)).filter((k) => kindOfKey(k) !== 'local')).toEqual(
      (await keysOf(source)).filter((k) => kindOfKey(k) !== 'local'),
    );
    expect(await fixture.expectSameRestores(replica)).toEqual({ snapshots: 2, allEqual: true });

    // Content first: every manifest is copied after the last content object.
    const copied = events.flatMap((e) => (e.type === 'copied' ? [kindOfKey(e.key)] : []));
    expect(copied.lastIndexOf('content')).toBeLessThan(copied.indexOf('manifest'));

    const writesBefore = replica.total('put') + replica.total('copy');
    const second = await replicatePass({ source, destination: replica });
    expect(second.objects.copied).toBe(0);
    expect(second.behind.objects).toBe(0);
    expect(second.objects.unchanged).toBe(first.objects.checked);
    // Only its lock (put, then deleted): nothing is copied.
    expect(replica.total('put') + replica.total('copy')).toBe(writesBefore + 1);
    expect(replica.total('head') + replica.total('get')).toBeGreaterThan(0); // the config check
  });

  it('keeps content and metadata of the objects', async () => {
    const { source } = await setup();
    const replica = new MemoryBackend('memory://replica');
    await replicatePass({ source, destination: replica });
    const key = (await keysOf(source)).find((k) => k.endsWith('/a.txt'))!;
    const [a, b] = await Promise.all([source.head(key), replica.head(key)]);
    expect(b.metadata).toEqual(a.metadata);
    expect(b.metadata.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.contentType).toBe(a.contentType);
  });

  it('holds back a manifest whose objects are missing in the source, and says which', async () => {
    const { source } = await setup();
    const lost = (await keysOf(source)).find((k) => k.endsWith('/e.txt'))!;
    await source.delete(lost);
    const replica = new MemoryBackend('memory://replica');
    const summary = await replicatePass({ source, destination: replica });
    expect(summary.manifests).toEqual({ copied: 1, held: 1 });
    expect(summary.problems).toHaveLength(1);
    expect(summary.problems[0]!.message).toContain(lost);
    const manifests = (await keysOf(replica)).filter((k) => kindOfKey(k) === 'manifest');
    expect(manifests).toHaveLength(1);
  });

  it('copies a new snapshot whose object the source lost but the replica holds, and keeps that object', async () => {
    const { source, fixture } = await setup();
    const replica = new MemoryBackend('memory://replica');
    await replicatePass({ source, destination: replica });
    await fixture.write({ 'f.txt': 'foxtrot' });
    await fixture.snapshot(); // still references b/c.txt from the first snapshot's folder
    const lost = (await keysOf(source)).find((k) => k.endsWith('/b/c.txt'))!;
    await source.delete(lost);
    const summary = await mirrorLater(source, replica);
    expect(summary.manifests).toEqual({ copied: 1, held: 0 });
    expect(await keysOf(replica)).toContain(lost);
    expect(await fixture.latestRestoresAsFolder(replica)).toBe(true);
  });

  it('refuses a destination holding another repository, or other things, or the source itself', async () => {
    const { source } = await setup();
    const other = new MemoryBackend('memory://other');
    await initRepository(other, { clock: new ManualClock() });
    await expect(replicatePass({ source, destination: other })).rejects.toThrow(/holds another repository/);
    const cluttered = new MemoryBackend('memory://cluttered');
    await cluttered.put('photos/cat.jpg', {
      size: 1,
      open: async () => (await import('node:stream')).Readable.from([Buffer.from('x')]),
    });
    await expect(replicatePass({ source, destination: cluttered })).rejects.toThrow(
      /not empty and holds no twinvault repository/,
    );
    await expect(replicatePass({ source, destination: source })).rejects.toThrow(/overlaps the repository/);
    expect(await keysOf(other)).toEqual([CONFIG_KEY]);
  });

  it('treats an object deleted in the source during the pass as gone, not as an error', async () => {
    const { source } = await setup();
    const vanishing = (await keysOf(source)).find((k) => k.endsWith('/b/d.txt'))!;
    const faulty = new FaultyBackend(source).failNext(
      'head',
      () => new NotFoundError(`no object ${vanishing}`),
      {
        key: new RegExp(`^${vanishing}$`),
      },
    );
    const summary = await replicatePass({
      source: faulty,
      destination: new MemoryBackend('memory://replica'),
    });
    expect(summary.objects.vanished).toBe(1);
    expect(summary.objects.failed).toBe(0);
    // The snapshots needing it are held back, not copied half.
    expect(summary.manifests.held).toBe(2);
  });

  it('stops with a clear error when the destination becomes unreachable, and the next pass resumes', async () => {
    const { source, fixture } = await setup();
    const memory = new MemoryBackend('memory://replica');
    // Writes: the config, the pass's lock, then two objects.
    const flaky = new DownAfter(memory, 4);
    await expect(replicatePass({ source, destination: flaky, concurrency: 1 })).rejects.toThrow(
      /replication to memory:\/\/replica stopped after copying 2 object\(s\): cannot reach/,
    );
    const counting = new CountingBackend(memory);
    const summary = await replicatePass({ source, destination: counting });
    expect(summary.objects.copied).toBe(7 - 2);
    expect(counting.total('copy')).toBe(7 - 2);
    expect(await fixture.expectSameRestores(memory)).toEqual({ snapshots: 2, allEqual: true });
  });

  it('reports without changing anything in a dry run', async () => {
    const { source } = await setup();
    const replica = new MemoryBackend('memory://replica');
    const summary = await replicatePass({ source, destination: replica, dryRun: true });
    expect(summary.behind.objects).toBe(7);
    expect(summary.manifests.copied).toBe(2);
    expect(summary.objects.copied).toBe(0);
    expect(await keysOf(replica)).toEqual([]);
  });
});

describe('deletes reach the replica by its policy', () => {
  async function pruned() {
    const { source, fixture } = await setup();
    const replica = new MemoryBackend('memory://replica');
    await replicatePass({ source, destination: replica });
    // What retention would do: drop the first snapshot, then the objects only it needed.
    const keys = await keysOf(source);
    const firstManifest = keys.filter((k) => kindOfKey(k) === 'manifest')[0]!;
    const onlyInFirst = keys.find((k) => k.endsWith('/a.txt') && k.includes(firstManifest.slice(-25, -8)))!;
    await source.delete(firstManifest);
    await source.delete(onlyInFirst);
    return { source, fixture, replica, firstManifest, onlyInFirst };
  }

  it('mirror spares objects written since shortly before the pass began (live copies meanwhile)', async () => {
    const { source, replica, onlyInFirst } = await pruned();
    const summary = await replicatePass({ source, destination: replica, deletes: { policy: 'mirror' } });
    expect(summary.deletes.deleted).toBe(0);
    expect(await keysOf(replica)).toContain(onlyInFirst);
  });

  it('keep: the replica never deletes', async () => {
    const { source, replica, firstManifest, onlyInFirst } = await pruned();
    const summary = await replicatePass({ source, destination: replica });
    expect(summary.deletes.deleted).toBe(0);
    expect(await keysOf(replica)).toEqual(expect.arrayContaining([firstManifest, onlyInFirst]));
  });

  it('mirror: manifests and objects go, but never an object a remaining snapshot needs', async () => {
    const { source, fixture, replica, firstManifest, onlyInFirst } = await pruned();
    // The source also lost an object the kept snapshot needs: the replica's copy must stay.
    const needed = (await keysOf(source)).find((k) => k.endsWith('/b/c.txt'))!;
    await source.delete(needed);
    const summary = await mirrorLater(source, replica);
    expect(summary.deletes).toMatchObject({ deleted: 2, kept: 1 });
    const left = await keysOf(replica);
    expect(left).not.toContain(firstManifest);
    expect(left).not.toContain(onlyInFirst);
    expect(left).toContain(needed);
    expect(await fixture.latestRestoresAsFolder(replica)).toBe(true);
  });

  it('delay: deletes only once the source has been without the object long enough', async () => {
    const { source, replica, firstManifest } = await pruned();
    const clock = new ManualClock(new Date(Date.now() + 600_000));
    const rule = { policy: 'delay' as const, afterMs: 3_600_000 };
    const first = await replicatePass({ source, destination: replica, deletes: rule, clock });
    expect(first.deletes).toMatchObject({ deleted: 0, waiting: 2 });
    clock.advance(3_000_000);
    expect(
      (await replicatePass({ source, destination: replica, deletes: rule, clock })).deletes.deleted,
    ).toBe(0);
    clock.advance(700_000);
    const due = await replicatePass({ source, destination: replica, deletes: rule, clock });
    expect(due.deletes).toMatchObject({ deleted: 2, waiting: 0 });
    expect(await keysOf(replica)).not.toContain(firstManifest);
  });
});

/** A destination whose store stops answering after `okWrites` writes. */
class DownAfter extends ForwardingBackend {
  private writes = 0;
  constructor(
    inner: Backend,
    private readonly okWrites: number,
  ) {
    super(inner);
  }
  protected override around<T>(
    operation: Operation,
    _key: string | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    if ((operation === 'put' || operation === 'copy') && ++this.writes > this.okWrites) {
      return Promise.reject(
        new StorageUnreachableError('cannot reach memory://replica (connection refused)'),
      );
    }
    return call();
  }
}
