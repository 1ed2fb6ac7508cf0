import { spawnSync } from 'node:child_process';
import { chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { lockKey } from '../repository/locks.js';
import { decodeManifest } from '../repository/manifest-codec.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { backup } from './backup.js';

let dir: string;
let source: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-names-'));
  source = join(dir, 'src');
  await mkdir(source);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function roundTrip(options: { exclude?: string[]; include?: string[] } = {}) {
  const backend = new MemoryBackend();
  const clock = new ManualClock('2026-05-01T00:00:00Z');
  const repository = await initRepository(backend, { clock });
  const summary = await backup({
    repository,
    sources: [{ path: source, ...(options.include ? { include: options.include } : {}) }],
    host: 'box',
    stateFolder: join(dir, 'state'),
    clock,
    ...(options.exclude ? { exclude: options.exclude } : {}),
  });
  const [ref] = await listSnapshots(backend);
  const { entries } = await decodeManifest(await backend.get(ref!.key), 'test');
  const manifest = [];
  for await (const entry of entries) manifest.push(entry);
  const target = join(dir, 'restored');
  await restore({ repository, snapshot: ref!, target });
  return { summary, manifest, target, backend };
}

describe('names and kinds of files', () => {
  it('keeps names that are not valid UTF-8 byte-exact, with a fallback key', async () => {
    const raw = Buffer.concat([
      Buffer.from(`${source}/bad-`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.txt'),
    ]);
    await writeFile(raw, 'latin-1 named file');
    const { manifest, target } = await roundTrip();
    const entry = manifest.find((e) => e.pathBytes !== undefined);
    expect(entry).toBeDefined();
    expect(entry?.type === 'file' && entry.key).toContain('_twinvault_fallback/');
    const restored = await readdir(Buffer.from(join(target, 'src')), { encoding: 'buffer' });
    expect(restored.map((name) => name.toString('hex'))).toContain(
      Buffer.from([...Buffer.from('bad-'), 0xff, 0xfe, ...Buffer.from('.txt')]).toString('hex'),
    );
  });

  it('uses a fallback key for control characters and paths longer than S3 keys allow', async () => {
    await writeFile(join(source, 'new\nline.txt'), 'newline in name');
    let deep = source;
    for (let i = 0; i < 6; i++) deep = join(deep, `${'d'.repeat(200)}${i}`);
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'far.txt'), 'far away');
    const { manifest, target } = await roundTrip();
    const files = manifest.filter((e) => e.type === 'file');
    expect(files).toHaveLength(2);
    for (const file of files) expect(file.type === 'file' && file.key).toContain('_twinvault_fallback/');
    expect(await readdir(join(target, 'src'))).toContain('new\nline.txt');
    expect((await stat(join(target, deep.slice(dir.length), 'far.txt'))).size).toBe(8);
  });

  it('keeps unicode names byte-exact as plain keys', async () => {
    await writeFile(join(source, 'Ünïcödé 日本 ☕.txt'), 'u');
    await writeFile(join(source, 'e\u0301.txt'), 'decomposed é'); // NFD stays NFD
    const { manifest } = await roundTrip();
    const keys = manifest.flatMap((e) => (e.type === 'file' ? [e.key] : []));
    expect(keys).toContain('box/20260501_000000/src/Ünïcödé 日本 ☕.txt');
    expect(keys).toContain('box/20260501_000000/src/e\u0301.txt');
  });

  it('skips fifos with a note, and keeps owners when running as root', async () => {
    spawnSync('mkfifo', [join(source, 'pipe')]);
    await writeFile(join(source, 'owned.txt'), 'x');
    const root = process.getuid?.() === 0;
    if (root) await chown(join(source, 'owned.txt'), 1234, 5678);
    const { summary, target } = await roundTrip();
    expect(summary.notes).toEqual([{ path: 'src/pipe', message: expect.stringContaining('fifo') }]);
    expect(await readdir(join(target, 'src'))).toEqual(['owned.txt']);
    if (root) expect(await stat(join(target, 'src', 'owned.txt'))).toMatchObject({ uid: 1234, gid: 5678 });
  });
});

describe('what is left out', () => {
  it('honours --exclude, include patterns, .twinvaultignore (with negation) and CACHEDIR.TAG', async () => {
    await mkdir(join(source, 'build'));
    await writeFile(join(source, 'build', 'out.o'), 'o');
    await writeFile(join(source, 'keep.txt'), 'k');
    await writeFile(join(source, 'notes.tmp'), 't');
    await mkdir(join(source, 'project'));
    await writeFile(join(source, 'project', '.twinvaultignore'), '*.log\n!important.log\n');
    await writeFile(join(source, 'project', 'debug.log'), 'd');
    await writeFile(join(source, 'project', 'important.log'), 'i');
    await mkdir(join(source, 'cache'));
    await writeFile(
      join(source, 'cache', 'CACHEDIR.TAG'),
      'Signature: 8a477f597d28d172789f06886806bc55\n# a cache',
    );
    await writeFile(join(source, 'cache', 'blob'), 'b');
    const { manifest, summary } = await roundTrip({ exclude: ['build/', '*.tmp'] });
    expect(manifest.map((e) => e.path).sort()).toEqual(
      [
        'src',
        'src/keep.txt',
        'src/project',
        'src/project/.twinvaultignore',
        'src/project/important.log',
      ].sort(),
    );
    expect(summary.notes.map((n) => n.path)).toEqual(['src/cache']);
  });

  it('keeps only files matching include patterns, when given', async () => {
    await writeFile(join(source, 'a.pdf'), 'p');
    await writeFile(join(source, 'b.txt'), 't');
    const { manifest } = await roundTrip({ include: ['*.pdf'] });
    expect(manifest.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['src/a.pdf']);
  });
});

describe('locks', () => {
  it('holds a shared lock while running and removes it afterwards', async () => {
    await writeFile(join(source, 'a'), 'a');
    const backend = new MemoryBackend();
    const clock = new ManualClock();
    const repository = await initRepository(backend, { clock });
    const locksSeen: string[] = [];
    const spy = new Proxy(backend, {
      get(target, property, receiver) {
        if (property === 'put') {
          return async (key: string, ...rest: unknown[]) => {
            if (!key.startsWith('.twinvault/'))
              for await (const o of target.list('.twinvault/locks/')) locksSeen.push(o.key);
            return (target.put as (...args: unknown[]) => Promise<void>)(key, ...rest);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    await backup({
      repository: { ...repository, backend: spy },
      sources: [{ path: source }],
      host: 'h',
      stateFolder: join(dir, 's'),
      clock,
    });
    expect(locksSeen.some((key) => key.startsWith('.twinvault/locks/shared-'))).toBe(true);
    const left = [];
    for await (const o of backend.list('.twinvault/locks/')) left.push(o.key);
    expect(left).toEqual([]);
  });

  it('waits for a live exclusive lock, saying why, and gives up after the wait limit', async () => {
    await writeFile(join(source, 'a'), 'a');
    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const repository = await initRepository(backend, { clock });
    const live = {
      kind: 'exclusive',
      host: 'nas',
      pid: 42,
      operation: 'prune',
      created: '2026-01-01T00:00:00Z',
      expires: '2026-01-01T01:00:00Z',
    };
    await backend.put(lockKey('exclusive', 'abc'), bodyFromBuffer(JSON.stringify(live)));
    const waits: string[] = [];
    await expect(
      backup({
        repository,
        sources: [{ path: source }],
        host: 'h',
        stateFolder: join(dir, 's'),
        clock,
        lockWaitMs: 60_000,
        onEvent: (e) => e.type === 'waiting' && waits.push(e.reason),
      }),
    ).rejects.toThrow('locked by prune on nas (pid 42)');
    expect(waits.length).toBeGreaterThan(0);
    expect(await listSnapshots(backend)).toEqual([]);

    // A stale lock (expired) does not block.
    clock.advance(2 * 3_600_000);
    await backup({ repository, sources: [{ path: source }], host: 'h', stateFolder: join(dir, 's'), clock });
    expect(await listSnapshots(backend)).toHaveLength(1);
  });
});
