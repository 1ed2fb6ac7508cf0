import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend } from '../backend/local/local-backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import { kindOfKey } from '../repository/layout.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import type { RetrievalEvent, RetrievalPolicy } from '../retrieval/retrieve.js';
import { type ArchivedContentReport, archivedContentStep } from './archived.js';
import { restore } from './restore.js';

const HOUR = 3_600_000;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-archived-'));
  await mkdir(join(dir, 'Documents', 'photos'), { recursive: true });
  await writeFile(join(dir, 'Documents', 'a.txt'), 'alpha');
  await writeFile(join(dir, 'Documents', 'photos', 'b.jpg'), 'bravo bytes');
  await writeFile(join(dir, 'Documents', 'photos', 'c.jpg'), 'charlie bytes!');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A snapshot of Documents whose content S3 then moved to `storageClass` (every object, or those named). */
async function archivedRepository(storageClass = 'DEEP_ARCHIVE', only?: RegExp) {
  const clock = new ManualClock(new Date(Date.now() + HOUR));
  const memory = new MemoryBackend('memory://cold', () => clock.now());
  const backend = new CountingBackend(memory);
  const repository = await initRepository(backend, { clock });
  await backup({
    repository,
    sources: [{ path: join(dir, 'Documents') }],
    host: 'laptop',
    stateFolder: join(dir, 'state'),
    clock,
  });
  const content: string[] = [];
  for await (const object of memory.list()) if (kindOfKey(object.key) === 'content') content.push(object.key);
  for (const key of content) if (!only || only.test(key)) memory.archive(key, storageClass);
  const [snapshot] = await listSnapshots(backend);
  const events: RetrievalEvent[] = [];
  const reports: ArchivedContentReport[] = [];
  const run = (
    policy: Omit<RetrievalPolicy, 'onEvent'> = {},
    extra: Partial<Parameters<typeof restore>[0]> = {},
  ) =>
    restore({
      repository,
      snapshot: snapshot!,
      target: join(dir, 'target'),
      clock,
      prepareDownloads: archivedContentStep({
        replicas: (extra.fallbacks as never) ?? [],
        policy: { ...policy, onEvent: (e) => events.push(e) },
        onReport: (r) => reports.push(r),
      }),
      ...extra,
    });
  return { clock, memory, backend, content, run, events, reports };
}

async function failure(promise: Promise<unknown>): Promise<Error & { code: string; hint: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code: string; hint: string };
  }
  throw new Error('expected the restore to stop');
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('restore of archived content', () => {
  it('without --request-archived: names the archived objects and how to get them; writes and asks nothing', async () => {
    const { run, backend } = await archivedRepository();
    const gets = backend.total('get');
    const error = await failure(run());
    expect(error.code).toBe('ARCHIVED');
    expect(error.message).toMatch(
      /needs archived objects .*: 3 object\(s\), 30 B \(DEEP_ARCHIVE: 3\): "laptop\//,
    );
    expect(error.message).toContain('nothing was written');
    expect(error.hint).toContain('--request-archived: Bulk ≈ < $0.01, within 48 hours (the default)');
    expect(error.hint).toContain('Standard ≈ < $0.01, within 12 hours (--tier Standard)');
    expect(error.hint).not.toContain('Expedited');
    expect(await exists(join(dir, 'target'))).toBe(false);
    expect(backend.total('restore')).toBe(0);
    expect(backend.total('get') - gets).toBe(1); // the manifest, nothing else
  });

  it('with --request-archived: asks once for exactly the objects needed, exits resumable, restores later', async () => {
    const { run, backend, clock, events } = await archivedRepository();
    const include = { include: ['Documents/photos'] };
    const first = await failure(run({ request: { tier: 'Bulk', days: 3 } }, include));
    expect(first.code).toBe('RETRIEVAL_PENDING');
    expect(first.message).toContain(
      'asked S3 to restore 2 archived object(s) (Bulk tier, estimated < $0.01)',
    );
    expect(first.message).toContain('usually within 48 hours');
    expect(first.hint).toContain('run the same command again later');
    expect(events[0]).toMatchObject({ type: 'requesting', objects: 2, bytes: 25 });
    expect(backend.total('restore')).toBe(2); // photos only: a.txt is not needed
    expect(await exists(join(dir, 'target'))).toBe(false);

    clock.advance(24 * HOUR);
    const again = await failure(run({ request: { tier: 'Bulk', days: 3 } }, include));
    expect(again.code).toBe('RETRIEVAL_PENDING');
    expect(again.message).not.toContain('asked S3');
    expect(backend.total('restore')).toBe(2); // nothing asked twice

    clock.advance(24 * HOUR);
    const summary = await run({ request: { tier: 'Bulk', days: 3 } }, include);
    expect(summary.files.restored).toBe(2);
    expect(await readFile(join(dir, 'target', 'Documents', 'photos', 'c.jpg'), 'utf8')).toBe(
      'charlie bytes!',
    );
    expect(backend.total('restore')).toBe(2);
  });

  it('with --wait: polls through the clock with progress, then restores, in one run', async () => {
    const { run, clock, events, backend } = await archivedRepository('GLACIER');
    const started = clock.now().getTime();
    const summary = await run({ request: { tier: 'Standard', days: 1 }, wait: { clock } });
    expect(summary.files.restored).toBe(3);
    const waited = events.filter((e) => e.type === 'waiting');
    expect(waited.length).toBeGreaterThan(0);
    expect(waited[0]).toMatchObject({ ready: 0, total: 3 });
    // Standard from Glacier: ready after 5 hours; checks every 25 minutes, one HEAD each time.
    expect(clock.now().getTime() - started).toBeGreaterThanOrEqual(5 * HOUR);
    expect(clock.now().getTime() - started).toBeLessThan(5.5 * HOUR);
    expect(backend.total('head')).toBeLessThan(3 + 3 + waited.length + 3);
  });

  it('reads objects already restored, and waits for those in progress without asking again', async () => {
    const { run, memory, content, backend, clock } = await archivedRepository('GLACIER');
    await memory.requestRestore(content[0]!, { tier: 'Expedited', days: 1 });
    await memory.requestRestore(content[1]!, { tier: 'Bulk', days: 1 });
    clock.advance(HOUR); // the Expedited one is ready, the Bulk one is not
    const pending = await failure(run({ request: { tier: 'Bulk', days: 1 } }));
    expect(pending.code).toBe('RETRIEVAL_PENDING');
    expect(pending.message).toContain('asked S3 to restore 1 archived object(s)');
    expect(pending.message).toContain(
      'archived objects being restored, usually within 12 hours: 2 object(s)',
    );
    expect(backend.total('restore')).toBe(1);
    const waitOnly = await run({ wait: { clock } });
    expect(waitOnly.files.restored).toBe(3);
  });

  it('reads from a replica that holds the archived objects readable, and asks S3 for nothing', async () => {
    const { run, backend, memory, content, reports } = await archivedRepository('DEEP_ARCHIVE', /b\.jpg$/);
    const replica = new CountingBackend(new MemoryBackend('memory://hot-replica'));
    for await (const object of memory.list()) {
      if (object.archive) {
        // the replica got its copy before the transition
        await replica.put(object.key, {
          size: object.size,
          open: async () => (await import('node:stream')).Readable.from([Buffer.from('bravo bytes')]),
        });
      }
    }
    const summary = await run({}, { fallbacks: [replica] });
    expect(summary.files.restored).toBe(3);
    expect(summary.fromReplica).toEqual([]);
    expect(reports.at(-1)?.fromReplicas).toEqual([
      { replica: 'memory://hot-replica', objects: 1, bytes: 11 },
    ]);
    expect(backend.total('restore')).toBe(0);
    expect(replica.total('get')).toBe(1);
    expect(content.filter((key) => key.endsWith('b.jpg'))).toHaveLength(1);
    expect(await readFile(join(dir, 'target', 'Documents', 'photos', 'b.jpg'), 'utf8')).toBe('bravo bytes');
  });

  it('passes over a replica whose copy is archived too, or has another size', async () => {
    const { run, memory } = await archivedRepository('GLACIER', /a\.txt$/);
    const archivedToo = new MemoryBackend('memory://archived-replica');
    const wrongSize = new MemoryBackend('memory://odd-replica');
    for await (const object of memory.list()) {
      if (!object.archive) continue;
      await archivedToo.put(object.key, {
        size: 5,
        open: async () => (await import('node:stream')).Readable.from([Buffer.from('alpha')]),
      });
      archivedToo.archive(object.key);
      await wrongSize.put(object.key, {
        size: 3,
        open: async () => (await import('node:stream')).Readable.from([Buffer.from('alp')]),
      });
    }
    const error = await failure(run({}, { fallbacks: [archivedToo, wrongSize] }));
    expect(error.code).toBe('ARCHIVED');
    expect(error.message).toContain('1 object(s), 5 B (GLACIER: 1)');
  });

  it('in a dry run: reports what it would ask for, asks nothing, and fails nothing', async () => {
    const { run, backend, reports } = await archivedRepository();
    const summary = await run({ dryRun: true }, { dryRun: true });
    expect(summary.dryRun).toBe(true);
    expect(reports[0]?.retrieval?.notRequested).toHaveLength(3);
    expect(reports[0]?.retrieval?.estimate).toMatchObject({ tier: 'Bulk', objects: 3, bytes: 30 });
    expect(backend.total('restore')).toBe(0);
  });

  it('refuses Expedited for Deep Archive before asking anything', async () => {
    const { run, backend } = await archivedRepository('DEEP_ARCHIVE');
    await expect(run({ request: { tier: 'Expedited', days: 1 } })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('no Expedited retrieval for DEEP_ARCHIVE'),
    });
    expect(backend.total('restore')).toBe(0);
  });

  it('costs nothing on a folder repository, where nothing is ever archived', async () => {
    const backend = new CountingBackend(new LocalBackend(join(dir, 'repo')));
    const clock = new ManualClock(new Date(Date.now() + HOUR));
    const repository = await initRepository(backend, { clock });
    await backup({
      repository,
      sources: [{ path: join(dir, 'Documents') }],
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
    });
    const heads = backend.total('head');
    const [snapshot] = await listSnapshots(backend);
    const summary = await restore({
      repository,
      snapshot: snapshot!,
      target: join(dir, 'target'),
      prepareDownloads: archivedContentStep({ replicas: [], policy: {} }),
    });
    expect(summary.files.restored).toBe(3);
    expect(backend.total('head')).toBe(heads);
  });
});
