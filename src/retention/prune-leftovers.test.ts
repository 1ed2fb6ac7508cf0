import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdLock } from '../../test/lock-holder-process.js';
import { bodyFromBuffer } from '../backend/body.js';
import { LocalBackend } from '../backend/local/local-backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { systemClock } from '../clock.js';
import { type LockInfo, lockKey, RepositoryLock } from '../repository/locks.js';
import { initRepository } from '../repository/repository.js';
import { prune } from './prune.js';

describe('prune --dry-run', () => {
  it('keeps for running backups exactly what the real run keeps', async () => {
    const backend = new MemoryBackend();
    await initRepository(backend, { clock: systemClock });
    const running = await RepositoryLock.acquire(backend, 'shared', 'backup', systemClock);
    await backend.put('laptop/20991231_000000/Documents/new.txt', bodyFromBuffer('about to be referenced'));
    const dry = await prune({ backend, dryRun: true });
    const real = await prune({ backend });
    await running.release();
    expect(dry).toMatchObject({ keptForRunningBackups: 1, deleted: { objects: 0 } });
    expect({ ...dry, dryRun: true }).toEqual({ ...real, dryRun: true });
  });
});

describe('temporary files of killed writes (.twinvault-tmp/*.part)', () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-leftovers-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const parts = async (folder: string) =>
    (await readdir(join(folder, '.twinvault-tmp')).catch(() => [] as string[])).sort();
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

  it("a backup killed mid-upload leaves one; prune removes it once untouched for an hour, never a running write's", async () => {
    const folder = join(work, 'repo');
    await mkdir(folder);
    const backend = new LocalBackend(folder, { fsync: false });
    await initRepository(backend, { clock: systemClock });
    const holder = await holdLock(folder, 'writing');
    let left: string[] = [];
    for (let i = 0; i < 100 && left.length === 0; i++) {
      left = await parts(folder);
      if (left.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(left).toHaveLength(1);
    await holder.kill();
    expect(await parts(folder)).toEqual(left);

    // Just killed: a write that young may still be going on elsewhere, so it stays.
    expect((await prune({ backend })).abandonedWrites).toEqual({ files: 0, bytes: 0 });
    // An hour later (its time set back), it goes: counted by a dry run, removed by the real one.
    await utimes(join(folder, '.twinvault-tmp', left[0]!), hoursAgo(2), hoursAgo(2));
    const dry = await prune({ backend, dryRun: true });
    expect(dry.abandonedWrites).toEqual({ files: 1, bytes: 64 * 1024 });
    expect(await parts(folder)).toEqual(left);
    expect((await prune({ backend })).abandonedWrites).toEqual({ files: 1, bytes: 64 * 1024 });
    expect(await parts(folder)).toEqual([]);
  });

  it('keeps a part written since a running backup began, even when old, and touches nothing else', async () => {
    const folder = join(work, 'repo');
    await mkdir(folder);
    const backend = new LocalBackend(folder, { fsync: false });
    await initRepository(backend, { clock: systemClock });
    const temp = join(folder, '.twinvault-tmp');
    await mkdir(temp, { recursive: true });
    const write = async (name: string, age: number) => {
      await writeFile(join(temp, name), 'x');
      await utimes(join(temp, name), hoursAgo(age), hoursAgo(age));
    };
    await write('before-the-backup.part', 5);
    await write('since-the-backup.part', 2);
    await write('not-a-part.txt', 5);
    await mkdir(join(temp, 'folder.part'));
    // A backup on another machine began three hours ago and still renews its lock.
    const started = hoursAgo(3);
    const lock: LockInfo = {
      kind: 'shared',
      host: `not-${hostname()}`,
      pid: 1,
      operation: 'backup',
      created: started.toISOString(),
      expires: new Date(Date.now() + 25 * 60_000).toISOString(),
    };
    await backend.put(lockKey('shared', 'running'), bodyFromBuffer(JSON.stringify(lock)));
    const result = await prune({ backend });
    expect(result.abandonedWrites).toEqual({ files: 1, bytes: 1 });
    expect(await parts(folder)).toEqual(['folder.part', 'not-a-part.txt', 'since-the-backup.part']);
  });
});
