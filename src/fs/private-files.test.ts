import { chmod, chown, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modesBelow, notPrivate } from '../../test/modes.js';
import { takePidLock } from '../agent/agent-files.js';
import { createAgentLogger } from '../agent/log.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { writeJsonFile } from '../util/json-file.js';
import { closeFolderToOthers } from './private-files.js';

const ROOT = process.getuid?.() === 0;

const modeOf = async (path: string) => (await lstat(path)).mode & 0o7777;

let dir: string;
let umask: number;
beforeEach(async () => {
  umask = process.umask();
  dir = await mkdtemp(join(tmpdir(), 'twinvault-private-'));
});
afterEach(async () => {
  process.umask(umask);
  await rm(dir, { recursive: true, force: true });
});

describe('the state folder is private to its user (DESIGN invariant 9)', () => {
  for (const mask of [0o022, 0o000]) {
    it(`a backup's caches, the pid lock, state and alert files and the log, with umask ${mask.toString(8).padStart(3, '0')}`, async () => {
      process.umask(mask);
      const state = join(dir, 'state');
      const source = join(dir, 'docs');
      await mkdir(source);
      await writeFile(join(source, 'a.txt'), 'a');
      const backend = new MemoryBackend();
      const clock = new ManualClock();
      const repository = await initRepository(backend, { clock });
      await backup({ repository, sources: [{ path: source }], host: 'h', stateFolder: state, clock });
      // A second one has a parent: it checks that what it carries over is stored, and records when.
      await writeFile(join(source, 'b.txt'), 'b');
      clock.advance(60_000);
      await backup({ repository, sources: [{ path: source }], host: 'h', stateFolder: state, clock });
      const [ref] = await listSnapshots(backend);
      await ManifestCache.forRepository(state, repository.config.id).store(ref!, Buffer.from('copy'));
      const lock = await takePidLock(join(state, 'agent', 'x.pid'));
      await writeJsonFile(join(state, 'agent', 'x.state.json'), { ok: true });
      await writeJsonFile(join(state, 'replication', 'r.json'), { ok: true });
      const log = createAgentLogger({
        file: join(state, 'agent', 'x.log'),
        settings: { maxSize: 4096, keep: 2, level: 'info' },
        console: new PassThrough(),
        quiet: true,
      });
      log.info('hello');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const modes = await modesBelow(state);
      await lock.release();
      expect(modes).toContain('./agent/x.log 0600');
      expect(modes).toContain('./agent/x.pid 0600');
      expect(modes.some((line) => line.startsWith(`./index/${repository.config.id}/`))).toBe(true);
      expect(modes).toContain(`./index/${repository.config.id}/stored-check.json 0600`);
      expect(notPrivate(modes)).toEqual([]);
    });
  }

  it("closes an older version's log file when the agent starts", async () => {
    const file = join(dir, 'agent.log');
    await writeFile(file, '', { mode: 0o644 });
    await writeFile(`${file}.1`, '', { mode: 0o644 });
    await chmod(file, 0o644);
    createAgentLogger({
      file,
      settings: { maxSize: 4096, keep: 2, level: 'info' },
      console: new PassThrough(),
      quiet: true,
    });
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(`${file}.1`)).toBe(0o600);
  });
});

describe('closing the folders an older version left open', () => {
  it('closes the folder and what lies up to the given depth, no deeper, following no symlink', async () => {
    process.umask(0o022);
    const state = join(dir, 'state');
    await mkdir(join(state, 'index', 'repo-id'), { recursive: true });
    await writeFile(join(state, 'index', 'repo-id', 'm.json.gz'), 'm');
    await writeFile(join(state, 'top.json'), '{}');
    const outside = join(dir, 'outside');
    await writeFile(outside, 'not ours to change');
    await chmod(outside, 0o644);
    await symlink(outside, join(state, 'link'));
    await closeFolderToOthers(state, 2);
    const modes = await modesBelow(state);
    expect(modes).toContain('. 0700');
    expect(modes).toContain('./index 0700');
    expect(modes).toContain('./index/repo-id 0700');
    expect(modes).toContain('./top.json 0600');
    // Below the depth: left as it is, out of other users' reach in its closed folder.
    expect(modes).toContain('./index/repo-id/m.json.gz 0644');
    expect(await modeOf(outside)).toBe(0o644);
  });

  // Only root can give a file away.
  it.skipIf(!ROOT)("leaves another user's files alone, and a missing folder is no error", async () => {
    const folder = join(dir, 'shared');
    await mkdir(folder, { mode: 0o755 });
    await chmod(folder, 0o755);
    await writeFile(join(folder, 'theirs'), 'x', { mode: 0o644 });
    await chown(join(folder, 'theirs'), 65534, 65534);
    await closeFolderToOthers(folder, 1);
    expect(await modeOf(folder)).toBe(0o700);
    expect(await modeOf(join(folder, 'theirs'))).toBe(0o644);
    await expect(closeFolderToOthers(join(dir, 'missing'), 2)).resolves.toBeUndefined();
  });
});
