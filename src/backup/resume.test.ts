import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTree } from '../../test/tree.js';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer } from '../backend/body.js';
import { LocalBackend } from '../backend/local/local-backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { FaultyBackend } from '../backend/testing/faulty-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ForwardingBackend, type Operation } from '../backend/wrap/forwarding.js';
import { ManualClock } from '../clock.js';
import { AccessDeniedError } from '../errors.js';
import { isSnapshotContentKey } from '../repository/layout.js';
import { forEachReference } from '../repository/manifest-refs.js';
import { initRepository, type Repository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { prune } from '../retention/prune.js';
import { backup } from './backup.js';

let dir: string;
let source: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-resume-'));
  source = join(dir, 'Documents');
  await mkdir(source);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FILES = 40;
/** 40 files of 1 to 40 KiB, each distinct. */
async function fillSource(): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const data = Buffer.alloc(1024 * (i + 1), i + 1);
    await writeFile(join(source, `file-${String(i).padStart(2, '0')}.bin`), data);
    bytes += data.length;
  }
  return bytes;
}

/** A repository whose objects are stamped by the test's clock (prune compares those times). */
async function setup(store?: Backend) {
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const inner = store ?? new MemoryBackend('memory://resume', () => clock.now());
  const repository = await initRepository(inner, { clock });
  const run = (backend: Backend, host = 'laptop', path = source) =>
    backup({
      repository: { ...repository, backend },
      sources: [{ path }],
      host,
      stateFolder: join(dir, 'state'),
      clock,
      concurrency: 4,
    });
  /** A backup that the store "kills" after `landed` content uploads (access suddenly refused). */
  const crash = async (landed: number) => {
    const faulty = new FaultyBackend(inner).failNext('put', () => new AccessDeniedError('killed'), {
      key: /^laptop\//,
      after: landed,
      times: 1_000_000,
    });
    await expect(run(faulty)).rejects.toThrow('killed');
    expect(await listSnapshots(inner)).toEqual([]);
    clock.advance(60_000);
  };
  return { clock, inner, repository, run, crash };
}

async function contentObjects(backend: Backend) {
  const objects = new Map<string, number>();
  for await (const object of backend.list())
    if (isSnapshotContentKey(object.key)) objects.set(object.key, object.size);
  return objects;
}

async function referenced(backend: Backend) {
  const keys = new Set<string>();
  for (const ref of await listSnapshots(backend))
    await forEachReference(backend, ref.key, (key) => keys.add(key));
  return keys;
}

async function restoresExactly(repository: Repository, backend: Backend) {
  const target = join(dir, `restored-${Math.random().toString(36).slice(2)}`);
  await restore({
    repository: { ...repository, backend },
    snapshot: (await listSnapshots(backend)).at(-1)!,
    target,
  });
  expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(source));
}

describe('a backup after an interrupted one', () => {
  it('reuses what the interrupted run uploaded, uploads only the rest, and restores exactly', async () => {
    const total = await fillSource();
    const { inner, repository, run, crash } = await setup();
    await crash(15);
    const left = await contentObjects(inner);
    expect(left.size).toBeGreaterThanOrEqual(15);
    expect(left.size).toBeLessThan(FILES);
    const leftBytes = [...left.values()].reduce((a, b) => a + b, 0);

    const counting = new CountingBackend(inner);
    const summary = await run(counting);
    expect(summary.files.new).toBe(FILES);
    expect(summary.resumed).toEqual({ files: left.size, bytes: leftBytes });
    expect(summary.bytesUploaded).toBe(total - leftBytes);
    // Content puts: only the files the interrupted run had not stored (plus lock and manifest).
    expect(counting.total('put')).toBe(FILES - left.size + 2);
    // The new manifest references the leftovers at their old keys.
    const refs = await referenced(inner);
    for (const key of left.keys()) expect(refs.has(key)).toBe(true);
    await restoresExactly(repository, inner);
  });

  it('uploads again what no longer matches: a changed file, an object changed in the store', async () => {
    // A local folder keeps no metadata: its leftovers are hashed to be sure of them.
    const store = new LocalBackend(join(dir, 'repo'), { fsync: false });
    await store.create();
    await fillSource();
    const { inner, repository, run, crash } = await setup(store);
    await crash(FILES - 5);
    const left = [...(await contentObjects(inner)).keys()].sort();
    // A file edited since (same size), and an object damaged in the store (same size).
    await writeFile(join(source, left[0]!.split('/').at(-1)!), Buffer.alloc(1024, 99));
    const damaged = left[1]!;
    const size = (await inner.head(damaged)).size;
    await inner.put(damaged, bodyFromBuffer(Buffer.alloc(size, 0xee)));
    const summary = await run(inner);
    expect(summary.resumed.files).toBe(left.length - 2);
    const refs = await referenced(inner);
    expect(refs.has(left[0]!)).toBe(false);
    expect(refs.has(damaged)).toBe(false);
    await restoresExactly(repository, inner);
  });

  it('keeps the leftovers a running backup reuses when a prune runs meanwhile', async () => {
    await fillSource();
    const { clock, inner, repository, run, crash } = await setup();
    await crash(20);
    const left = await contentObjects(inner);
    // Long after: the leftovers are far older than the new run's start (and its margin).
    clock.advance(3_600_000);
    let release!: () => void;
    const paused = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const atManifest = new Promise<void>((resolve) => {
      reached = resolve;
    });
    class PauseBeforeManifest extends ForwardingBackend {
      protected override async around<T>(
        operation: Operation,
        key: string | undefined,
        call: () => Promise<T>,
      ) {
        if (operation === 'put' && key?.startsWith('.twinvault/snapshots/')) {
          reached();
          await paused;
        }
        return call();
      }
    }
    const running = run(new PauseBeforeManifest(inner));
    await atManifest;
    const pruned = await prune({ backend: inner, clock });
    expect(pruned.deleted.objects).toBe(0);
    expect(pruned.keptForRunningBackups).toBeGreaterThanOrEqual(left.size);
    release();
    const summary = await running;
    expect(summary.resumed.files).toBe(left.size);
    await restoresExactly(repository, inner);
  });

  it('leaves no orphan for ever: prune removes leftovers no snapshot took, also while other hosts back up', async () => {
    await fillSource();
    const { clock, inner, run, crash } = await setup();
    await crash(25);
    const left = await contentObjects(inner);
    // Half of the leftovers' files are deleted before the next run: nothing will reference them.
    const gone = [...left.keys()].filter((_, i) => i % 2 === 0);
    for (const key of gone) await rm(join(source, key.split('/').at(-1)!));
    clock.advance(3_600_000);
    await run(inner);

    // A backup of another host is running: it does not protect this host's leftovers.
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'x.txt'), 'x');
    let release!: () => void;
    const paused = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const atManifest = new Promise<void>((resolve) => {
      reached = resolve;
    });
    class Pause extends ForwardingBackend {
      protected override async around<T>(
        operation: Operation,
        key: string | undefined,
        call: () => Promise<T>,
      ) {
        if (operation === 'put' && key?.startsWith('.twinvault/snapshots/')) {
          reached();
          await paused;
        }
        return call();
      }
    }
    clock.advance(3_600_000);
    const desk = run(new Pause(inner), 'desk', other);
    await atManifest;
    const pruned = await prune({ backend: inner, clock });
    expect(pruned.deleted.objects).toBe(gone.length);
    release();
    await desk;

    const refs = await referenced(inner);
    const objects = await contentObjects(inner);
    expect([...objects.keys()].filter((key) => !refs.has(key))).toEqual([]);
    expect((await prune({ backend: inner, clock })).unreferenced.objects).toBe(0);
  });
});
