import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTree } from '../../test/tree.js';
import type { ListOptions, ObjectInfo } from '../backend/backend.js';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ForwardingBackend } from '../backend/wrap/forwarding.js';
import { ManualClock } from '../clock.js';
import type { FileEntry } from '../repository/manifest.js';
import { decodeManifest } from '../repository/manifest-codec.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { backup } from './backup.js';
import { missingKeys } from './missing-objects.js';

/** Counts the objects listings return: what a listing costs, a request per thousand. */
class ListedCounting extends ForwardingBackend {
  listed = 0;
  override async *list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    for await (const object of super.list(prefix, options)) {
      this.listed++;
      yield object;
    }
  }
}

let dir: string;
let source: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-missing-'));
  source = join(dir, 'Documents');
  await mkdir(source);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const memory = new MemoryBackend();
  const backend = new CountingBackend(memory);
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const repository = await initRepository(backend, { clock });
  const run = (extra: Partial<Parameters<typeof backup>[0]> = {}) => {
    clock.advance(60_000);
    return backup({
      repository,
      sources: [{ path: source }],
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
      ...extra,
    });
  };
  const latestFiles = async () => {
    const ref = (await listSnapshots(memory)).at(-1)!;
    const files = new Map<string, FileEntry>();
    for await (const entry of (await decodeManifest(await memory.get(ref.key), 'test')).entries)
      if (entry.type === 'file') files.set(entry.path, entry);
    return { ref, files };
  };
  return { memory, backend, clock, repository, run, latestFiles };
}

describe('an object deleted from the store while its file is still on disk', () => {
  it('is noticed by the next check and uploaded again; the new snapshot restores', async () => {
    await writeFile(join(source, 'kept.txt'), 'kept');
    await writeFile(join(source, 'lost.txt'), 'this object will be deleted');
    await writeFile(join(source, 'copy-of-lost.txt'), 'this object will be deleted');
    const { memory, repository, run, latestFiles } = await setup();
    await run();
    const lostKey = (await latestFiles()).files.get('Documents/lost.txt')!.key;
    await memory.delete(lostKey);

    const summary = await run();
    expect(summary.missingObjects).toBe(1);
    expect(summary.notes).toContainEqual({ path: lostKey, message: expect.stringContaining('missing') });
    expect(summary.bytesUploaded).toBe('this object will be deleted'.length);
    const { ref, files } = await latestFiles();
    const newKey = files.get('Documents/lost.txt')!.key;
    expect(newKey).not.toBe(lostKey);
    expect((await memory.head(newKey)).size).toBe(27);
    // The copy shares the content: it points at the new object too, not at the lost one.
    expect(files.get('Documents/copy-of-lost.txt')!.key).toBe(newKey);
    const target = join(dir, 'restored');
    await restore({ repository, snapshot: ref, target });
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(source));

    // The local dedup index learnt the new key: a new file with that content points at it.
    await writeFile(join(source, 'third-copy.txt'), 'this object will be deleted');
    await run();
    expect((await latestFiles()).files.get('Documents/third-copy.txt')!.key).toBe(newKey);
  });

  it('is not deduplicated against by a file whose content came back (an older snapshot held it)', async () => {
    await writeFile(join(source, 'notes.txt'), 'first version');
    const { memory, run, latestFiles } = await setup();
    await run();
    const firstKey = (await latestFiles()).files.get('Documents/notes.txt')!.key;
    await writeFile(join(source, 'notes.txt'), 'second version');
    await run();
    // The parent now references the second version only; the first one's object is lost.
    await memory.delete(firstKey);
    await writeFile(join(source, 'notes.txt'), 'first version');

    const summary = await run({ checkStoredEveryMs: 0 });
    const key = (await latestFiles()).files.get('Documents/notes.txt')!.key;
    expect(key).not.toBe(firstKey);
    expect((await memory.head(key)).size).toBe('first version'.length);
    expect(summary.bytesUploaded).toBe('first version'.length);
  });

  it('is still deduplicated against between checks: only the daily check asks the store', async () => {
    await writeFile(join(source, 'notes.txt'), 'first version');
    const { backend, run, latestFiles } = await setup();
    await run();
    const firstKey = (await latestFiles()).files.get('Documents/notes.txt')!.key;
    await writeFile(join(source, 'notes.txt'), 'second version');
    await run();
    await writeFile(join(source, 'notes.txt'), 'first version');
    const heads = backend.total('head');
    await run(); // checked less than a day ago: the index is trusted, nothing is asked
    expect((await latestFiles()).files.get('Documents/notes.txt')!.key).toBe(firstKey);
    expect(backend.total('head')).toBe(heads);
  });

  it('checks once a day per host, not in every run (one listing of the host folder)', async () => {
    for (let i = 0; i < 30; i++) await writeFile(join(source, `f${i}.txt`), `file ${i}`);
    const { backend, clock, run } = await setup();
    await run(); // a first run has no parent: nothing to check
    const lists = () => backend.total('list');
    let before = lists();
    await run();
    expect(lists() - before).toBe(2); // .twinvault/ and laptop/
    before = lists();
    await run();
    expect(lists() - before).toBe(1); // checked less than a day ago
    clock.advance(86_400_000);
    before = lists();
    await run();
    expect(lists() - before).toBe(2);
  });
});

describe('which referenced objects are gone', () => {
  it("costs about a request per key for content deduplicated from another host's large folder, never a listing of all of it", async () => {
    const memory = new MemoryBackend();
    const key = (host: string, folder: number, i: number) =>
      `${host}/20260101_${String(folder).padStart(6, '0')}/f${String(i).padStart(4, '0')}`;
    // The desktop: 20 snapshots' folders of 500 objects each. The laptop: one of 20.
    for (let folder = 0; folder < 20; folder++)
      for (let i = 0; i < 500; i++) await memory.put(key('desk', folder, i), bodyFromBuffer('x'));
    for (let i = 0; i < 20; i++) await memory.put(key('laptop', 0, i), bodyFromBuffer('y'));
    const needed = new Set<string>();
    for (let i = 0; i < 250; i++) needed.add(key('desk', 3, i * 2)); // 250 of one folder's 500
    for (let i = 0; i < 20; i++) needed.add(key('laptop', 0, i));
    const goneHere = key('laptop', 0, 99);
    const goneThere = key('desk', 3, 1);
    await memory.delete(goneThere);
    needed.add(goneHere);
    needed.add(goneThere);
    const counted = new ListedCounting(memory);
    const counting = new CountingBackend(counted);

    expect(await missingKeys(counting, needed, 'laptop')).toEqual(new Set([goneHere, goneThere]));
    // The laptop's own folder is listed whole (20 objects); of the desktop's 10,000 objects, only
    // the part of folder 3 from its first needed key to its last.
    expect(counted.listed).toBeLessThanOrEqual(20 + 500);
    expect(counting.total('head')).toBe(0);
  });

  it('asks for keys of other hosts spread over many folders, and finds the gone ones', async () => {
    const memory = new MemoryBackend();
    const needed = new Set<string>();
    for (let folder = 0; folder < 30; folder++) {
      const present = `desk/20260101_${String(folder).padStart(6, '0')}/a.txt`;
      await memory.put(present, bodyFromBuffer('x'));
      needed.add(present);
      needed.add(`desk/20260101_${String(folder).padStart(6, '0')}/gone.txt`);
    }
    needed.add('server/20260101_000000/gone.txt');
    const missing = await missingKeys(memory, needed, 'laptop');
    expect([...missing].sort()).toEqual(
      [
        ...Array.from(
          { length: 30 },
          (_, folder) => `desk/20260101_${String(folder).padStart(6, '0')}/gone.txt`,
        ),
        'server/20260101_000000/gone.txt',
      ].sort(),
    );
  });
});
