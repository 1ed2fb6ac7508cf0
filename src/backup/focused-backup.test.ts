import { link, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { backup } from './backup.js';
import { focusPaths } from './scan/focus.js';

let dir: string;
let source: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-focus-'));
  source = join(dir, 'src');
  await mkdir(source);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const backend = new MemoryBackend();
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const repository = await initRepository(backend, { clock });
  const run = (changedPaths?: string[]) => {
    clock.advance(60_000);
    return backup({
      repository,
      sources: [{ path: source }],
      host: 'desk',
      stateFolder: join(dir, 'state'),
      clock,
      skipIfUnchanged: true,
      ...(changedPaths ? { changedPaths } : {}),
    });
  };
  return { backend, run };
}

const at = (...parts: string[]) => join(source, ...parts);

describe('a backup of changed paths only', () => {
  it('gives the snapshot a full scan would: a full backup right after finds nothing to write', async () => {
    await writeFile(at('a.txt'), 'a');
    await writeFile(at('b.txt'), 'b');
    await mkdir(at('e', 'inner'), { recursive: true });
    await writeFile(at('e', 'inner', 'x.txt'), 'x');
    await mkdir(at('g'));
    await writeFile(at('g', 'keep.txt'), 'keep');
    await writeFile(at('g', 'scratch.tmp'), 'tmp');
    await mkdir(at('untouched', 'deep'), { recursive: true });
    await writeFile(at('untouched', 'deep', 'u.txt'), 'u');
    await writeFile(at('h1.txt'), 'linked');
    await link(at('h1.txt'), at('h2.txt'));
    const { backend, run } = await setup();
    await run();

    await writeFile(at('a.txt'), 'a, changed');
    await rm(at('b.txt'));
    await mkdir(at('c', 'd'), { recursive: true });
    await writeFile(at('c', 'd', 'new.txt'), 'new');
    await rename(at('e'), at('f'));
    await writeFile(at('g', '.twinvaultignore'), '*.tmp\n');
    await writeFile(at('h2.txt'), 'linked, changed through the second name');
    const focused = await run([
      at('a.txt'),
      at('b.txt'),
      at('c'),
      at('c', 'd'),
      at('c', 'd', 'new.txt'),
      at('e'),
      at('f'),
      at('g', '.twinvaultignore'),
      at('h2.txt'),
    ]);
    expect(focused.written).toBe(true);
    // New: c/d/new.txt, f/inner/x.txt, g/.twinvaultignore; changed: a.txt and both names of the hard link.
    expect(focused.files).toMatchObject({ new: 3, changed: 3 });
    const full = await run();
    expect(full.written).toBe(false);
    expect(full.id).toBe(focused.id);
    expect(await listSnapshots(backend)).toHaveLength(2);
  });

  it('does not look beyond the changed paths (an unreported change waits for the next full scan)', async () => {
    await writeFile(at('seen.txt'), '1');
    await mkdir(at('other'));
    await writeFile(at('other', 'unseen.txt'), '1');
    const { run } = await setup();
    await run();
    await writeFile(at('seen.txt'), '2');
    await writeFile(at('other', 'unseen.txt'), '22');
    const focused = await run([at('seen.txt')]);
    expect(focused.files).toMatchObject({ changed: 1, unchanged: 1 });
    const full = await run();
    expect(full.written).toBe(true);
    expect(full.files).toMatchObject({ changed: 1, unchanged: 1 });
  });

  it('writes nothing when the reported paths did not change, and scans in full without a parent', async () => {
    await writeFile(at('a.txt'), 'a');
    const { run } = await setup();
    const first = await run([at('a.txt')]); // no parent yet: a full scan
    expect(first.files).toMatchObject({ new: 1 });
    expect((await run([at('a.txt'), at('gone.txt')])).written).toBe(false);
  });
});

describe('a backup of changed paths whose source folder cannot be read', () => {
  it('fails (so the changes are tried again) rather than carry or drop anything', async () => {
    await writeFile(at('a.txt'), 'a');
    const { backend, run } = await setup();
    await run();
    await rename(source, `${source}-away`);
    await expect(run([at('a.txt')])).rejects.toMatchObject({ code: 'LOCAL_PATH' });
    await rename(`${source}-away`, source);
    await writeFile(at('a.txt'), 'a, changed');
    expect((await run([at('a.txt')])).files).toMatchObject({ changed: 1 });
    expect(await listSnapshots(backend)).toHaveLength(2);
  });
});

describe('focusPaths', () => {
  it('makes paths relative, keeps outer ones, and widens ignore files and cache tags to their folder', () => {
    expect(
      focusPaths('/s', ['/s/a/b', '/s/a', '/s/a b', '/s/z/.twinvaultignore', '/other/x', '/s/q/']),
    ).toEqual(['a', 'a b', 'q', 'z']);
    expect(focusPaths('/s', ['/s/.twinvaultignore'])).toBeUndefined();
    expect(focusPaths('/s', ['/s'])).toBeUndefined();
    expect(focusPaths('/s', ['/s/bad\uFFFDname'])).toBeUndefined();
    expect(focusPaths('/s', [])).toEqual([]);
    expect(focusPaths('/', ['/etc/x', '/home'])).toEqual(['etc/x', 'home']);
  });
});

describe('parent hints', () => {
  it("find a source's parent behind more than 100 snapshots of another source", {
    timeout: 90_000,
  }, async () => {
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(at('a.txt'), 'a');
    const backend = new MemoryBackend();
    const clock = new ManualClock(new Date(Date.now() + 3_600_000));
    const repository = await initRepository(backend, { clock });
    const run = (path: string, extra: Partial<Parameters<typeof backup>[0]> = {}) => {
      clock.advance(60_000);
      return backup({
        repository,
        sources: [{ path }],
        host: 'desk',
        stateFolder: join(dir, 'state'),
        clock,
        ...extra,
      });
    };
    const first = await run(source);
    for (let i = 0; i < 101; i++) {
      await writeFile(join(other, 'busy.txt'), String(i));
      await run(other);
    }
    // 101 newer snapshots: beyond the 100 looked at without a hint, so only the hint finds it.
    const hinted = await run(source, { parentHints: [first.id] });
    expect(hinted.files).toMatchObject({ unchanged: 1, new: 0 });
    expect(hinted.parent).toBe(first.id);
  });
});
