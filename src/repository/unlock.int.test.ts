import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import { bodyFromBuffer } from '../backend/body.js';
import { systemClock } from '../clock.js';
import { LOCKS_PREFIX } from './layout.js';
import { type LockInfo, lockKey, RepositoryLock } from './locks.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('twinvault unlock on MinIO', () => {
  let work: string;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-unlock-'));
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('removes stale and torn locks, keeps live ones; --remove-all warns and keeps only the one running here', async () => {
    const { bucket, cleanup } = await createTestBucket(minio!, 'unlock');
    cleanups.push(cleanup);
    const home = join(work, 'home');
    await mkdir(home, { recursive: true });
    const env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio!.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: `s3://${bucket}/repo`,
      // The state folder of this test process (test/isolated-state.ts): the CLI runs as the same
      // user on the same machine, so it shares the install id that makes a lock this machine's.
      TWINVAULT_STATE_DIR: process.env.TWINVAULT_STATE_DIR,
    };
    const cli = (args: string[]) => runCli(args, { cwd: work, home, env });
    expect((await cli(['init'])).code).toBe(0);

    const backend = testBackend(minio!, bucket);
    cleanups.unshift(() => backend.close());
    const now = Date.now();
    const desk = (createdAgo: number): LockInfo => ({
      kind: 'exclusive',
      host: 'desk',
      pid: 4242,
      operation: 'prune',
      created: new Date(now - createdAgo).toISOString(),
      expires: new Date(now - createdAgo + 30 * 60_000).toISOString(),
    });
    await backend.put(lockKey('exclusive', 'live'), bodyFromBuffer(JSON.stringify(desk(60_000))));
    await backend.put(lockKey('exclusive', 'expired'), bodyFromBuffer(JSON.stringify(desk(3_600_000))));
    await backend.put(lockKey('shared', 'torn'), bodyFromBuffer('{"kind": "sh'));
    // A backup on another machine with this one's host name, whose pid is gone here: live.
    const twin: LockInfo = {
      ...desk(60_000),
      kind: 'shared',
      operation: 'backup',
      host: hostname(),
      pid: 2 ** 22 + 12345,
      holder: { installId: 'another-machine' },
    };
    await backend.put(lockKey('shared', 'twin'), bodyFromBuffer(JSON.stringify(twin)));
    // A lock of a process running on this machine (this test): never removed.
    const running = await RepositoryLock.acquire(backend, 'shared', 'backup', systemClock);
    const locks = async () => {
      const keys: string[] = [];
      for await (const object of backend.list(LOCKS_PREFIX)) keys.push(object.key);
      return keys.sort();
    };

    const first = await cli(['--json', 'unlock']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const result = JSON.parse(first.stdout);
    expect(result.removed.map((l: { reason: string }) => l.reason).sort()).toEqual(['expired', 'unreadable']);
    expect(result.kept.map((l: { reason: string }) => l.reason).sort()).toEqual(['live', 'live', 'running']);
    expect(await locks()).toEqual(
      [lockKey('exclusive', 'live'), lockKey('shared', 'twin'), running.key].sort(),
    );

    const all = await cli(['unlock', '--remove-all']);
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('warning: removed 2 lock(s) that had not expired (');
    expect(all.stderr).toContain('prune on desk, pid 4242');
    expect(all.stderr).toContain(`backup on ${hostname()}, pid ${twin.pid}`);
    expect(all.stdout).toContain('removed exclusive lock of prune on desk (pid 4242');
    expect(all.stdout).toContain('kept    shared lock of backup on');
    expect(await locks()).toEqual([running.key]);
    await running.release();
    expect(await locks()).toEqual([]);
  });
});
