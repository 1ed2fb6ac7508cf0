import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTree } from '../../test/tree.js';
import { readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import type { Entry } from '../repository/manifest.js';
import { decodeManifestBuffer } from '../repository/manifest-codec.js';
import { indexFile, parseIndexFile } from '../repository/manifest-index.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { backup } from './backup.js';

let dir: string;
let source: string;
let state: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-carry-'));
  source = join(dir, 'data');
  state = join(dir, 'state');
  // Enough entries for many manifest blocks (about 64 entries each).
  for (let d = 0; d < 20; d++) {
    await mkdir(join(source, `d${d}`), { recursive: true });
    for (let f = 0; f < 60; f++) await writeFile(join(source, `d${d}`, `f${f}`), `content ${d}/${f}`);
  }
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const backend = new MemoryBackend();
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const repository = await initRepository(backend, { clock });
  const run = () => {
    clock.advance(60_000);
    return backup({ repository, sources: [{ path: source }], host: 'h', stateFolder: state, clock });
  };
  const manifest = async (index: number) => {
    const ref = (await listSnapshots(backend)).at(index)!;
    const data = await readAll(await backend.get(ref.key));
    return { data, ...decodeManifestBuffer(data, ref.key) };
  };
  return { backend, repository, run, manifest };
}

/** The gzip members after the header's: where carried blocks are copied compressed. */
function bodyAfterHeader(data: Buffer): Buffer {
  // The header member ends where gunzip of the header alone stops: find it by trying lengths.
  for (let end = 20; end < data.length; end++) {
    try {
      if (gunzipSync(data.subarray(0, end)).toString().endsWith('\n')) return data.subarray(end);
    } catch {}
  }
  throw new Error('no header member found');
}

const byPath = (entries: Entry[]) => new Map(entries.map((entry) => [entry.path, entry]));

describe('carrying a parent snapshot over', () => {
  it('copies every entry, and every compressed block, when nothing changed', async () => {
    const { run, manifest } = await setup();
    await run();
    const second = await run();
    expect(second.files).toEqual({ new: 0, changed: 0, unchanged: 1200, skipped: 0 });
    const [a, b] = [await manifest(0), await manifest(1)];
    expect(b.entries).toEqual(a.entries);
    expect(b.header.entries).toBe(1221);
    expect(bodyAfterHeader(b.data).equals(bodyAfterHeader(a.data))).toBe(true);
  });

  it('copies the compressed blocks of the local copy rather than compressing them again', async () => {
    const { run, manifest } = await setup();
    await run();
    // Recompress the cached parent's blocks at another level: same lines, other bytes. A run
    // that copies blocks writes exactly these bytes; one that compresses anew would not.
    const host = join(state, 'index', (await readdir(join(state, 'index')))[0]!, 'manifests', 'h');
    const [gzName] = (await readdir(host)).filter((name) => name.endsWith('.json.gz'));
    const indexPath = join(host, gzName!.replace('.json.gz', '.index.json'));
    const data = await readFile(join(host, gzName!));
    const index = parseIndexFile(await readFile(indexPath));
    const parts = [data.subarray(0, index.headerLength)];
    let offset = index.headerLength;
    for (const block of index.blocks) {
      const member = gzipSync(gunzipSync(data.subarray(offset, offset + block[0])), { level: 9 });
      offset += block[0];
      block[0] = member.length;
      parts.push(member);
    }
    const redone = Buffer.concat(parts);
    expect(redone.equals(data)).toBe(false);
    index.size = redone.length;
    index.sha256 = createHash('sha256').update(redone).digest('hex');
    await writeFile(join(host, gzName!), redone);
    await writeFile(indexPath, indexFile(index));

    await run();
    expect(bodyAfterHeader((await manifest(1)).data).equals(redone.subarray(index.headerLength))).toBe(true);
    expect((await manifest(1)).entries).toEqual((await manifest(0)).entries);
  });

  it('merges changed, added and removed files with the carried ones, in order', async () => {
    const { run, manifest, repository } = await setup();
    await run();
    await run(); // carried from an indexed parent from here on
    await writeFile(join(source, 'd3', 'f7'), 'changed content');
    await writeFile(join(source, 'd3', 'f7-new'), 'an added file');
    await rm(join(source, 'd9', 'f1'));
    const third = await run();
    expect(third.files).toEqual({ new: 1, changed: 1, unchanged: 1198, skipped: 0 });
    const [before, after] = [await manifest(1), await manifest(2)];
    const old = byPath(before.entries);
    const now = byPath(after.entries);
    expect(now.has('data/d9/f1')).toBe(false);
    expect(now.get('data/d3/f7-new')).toMatchObject({ type: 'file', size: 13 });
    expect((now.get('data/d3/f7') as { sha256: string }).sha256).not.toBe(
      (old.get('data/d3/f7') as { sha256: string }).sha256,
    );
    for (const [path, entry] of now) {
      if (!['data/d3/f7', 'data/d3/f7-new', 'data/d3', 'data/d9'].includes(path))
        expect(entry).toEqual(old.get(path));
    }
    const paths = after.entries.map((entry) => entry.path);
    expect(paths).toEqual([...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    const target = join(dir, 'restored');
    await restore({ repository, snapshot: (await listSnapshots(repository.backend)).at(-1)!, target });
    expect(await describeTree(join(target, 'data'))).toEqual(await describeTree(source));
  });

  it('reads the parent in full when its local index is damaged, with the same result', async () => {
    const { run, manifest } = await setup();
    await run();
    const folder = join(state, 'index');
    const [repoId] = await readdir(folder);
    const host = join(folder, repoId!, 'manifests', 'h');
    for (const name of await readdir(host)) {
      if (name.endsWith('.index.json')) await writeFile(join(host, name), '{"version":1, broken');
    }
    const second = await run();
    expect(second.files.unchanged).toBe(1200);
    expect((await manifest(1)).entries).toEqual((await manifest(0)).entries);
  });
});

describe('a damaged local index', () => {
  async function indexPath() {
    const host = join(state, 'index', (await readdir(join(state, 'index')))[0]!, 'manifests', 'h');
    const [name] = (await readdir(host)).filter((file) => file.endsWith('.index.json'));
    return join(host, name!);
  }

  it('is not used when its checksum does not match (a flipped signature would mislead)', async () => {
    const { run, manifest } = await setup();
    await run();
    const path = await indexPath();
    const file = await readFile(path);
    const at = file.indexOf('f/', file.lastIndexOf(0x0a));
    file[at + 3] = file[at + 3] === 0x31 ? 0x32 : 0x31; // a digit of the first file signature's mode
    await writeFile(path, file);
    const second = await run();
    expect(second.files.unchanged).toBe(1200);
    expect((await manifest(1)).entries).toEqual((await manifest(0)).entries);
  });

  it('that fits its checksum but not its manifest fails one run, is dropped, and the next run works', async () => {
    const { run, manifest } = await setup();
    await run();
    const path = await indexPath();
    const index = parseIndexFile(await readFile(path));
    // Two block counts swapped: totals still add up, lines no longer fit the blocks.
    const [a, b] = [index.blocks[0]!, index.blocks[1]!];
    [a[1], b[1]] = [b[1], a[1]];
    expect(a[1]).not.toBe(b[1]);
    await writeFile(path, indexFile(index));
    await writeFile(join(source, 'd0', 'f0'), 'changed, so block lines are read');
    await expect(run()).rejects.toThrow('local index');
    const again = await run();
    expect(again.files).toMatchObject({ changed: 1, unchanged: 1199 });
    expect((await manifest(-1)).entries.length).toBe(1221);
  });
});
