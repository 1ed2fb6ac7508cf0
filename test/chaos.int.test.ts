import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosRun } from './chaos/run.js';
import { runCli, startCli } from './cli.js';
import { createTestBucket, s3Server, testBackend } from './s3.js';
import { describeTree } from './tree.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('a repository on MinIO damaged at random', () => {
  for (const seed of [101, 102, 103]) {
    it(`keeps every intact snapshot restorable and reports the damage (seed ${seed})`, async () => {
      const { bucket, cleanup } = await createTestBucket(minio!, `chaos-${seed}`);
      const backend = testBackend(minio!, bucket);
      try {
        await chaosRun(seed, backend, 4);
      } finally {
        await backend.close();
        await cleanup();
      }
    });
  }
});

/** Polls until `ready` holds (a killed process must be caught mid-way, not before or after). */
async function until(ready: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!minio)('processes killed on MinIO', () => {
  let work: string;
  let cleanupBucket: () => Promise<void>;
  let cli: (args: string[]) => ReturnType<typeof runCli>;
  let start: (args: string[]) => ReturnType<typeof startCli>;
  let objectCount: (prefix: string) => Promise<number>;
  const folder = () => join(work, 'Documents');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-chaos-killed-'));
    const created = await createTestBucket(minio!, 'chaos-killed');
    cleanupBucket = created.cleanup;
    const backend = testBackend(minio!, created.bucket);
    objectCount = async (prefix) => {
      let n = 0;
      for await (const _ of backend.list(prefix)) n++;
      return n;
    };
    const env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio!.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: `s3://${created.bucket}/repo`,
    };
    const home = join(work, 'home');
    await mkdir(home, { recursive: true });
    cli = (args) => runCli(args, { cwd: work, home, env });
    start = (args) => startCli(args, { cwd: work, home, env });
    await mkdir(folder(), { recursive: true });
    expect((await cli(['init'])).code).toBe(0);
  });
  afterAll(async () => {
    await cleanupBucket();
    await rm(work, { recursive: true, force: true });
  });

  const writeFiles = async (round: number, count: number) => {
    for (let i = 0; i < count; i++) {
      const body = createHash('sha256').update(`${round}:${i}`).digest().toString('hex').repeat(400);
      await writeFile(join(folder(), `file-${String(i).padStart(4, '0')}.txt`), body);
    }
  };

  it('a backup killed partway, then forget --prune and backup again: nothing lost, nothing blocked', async () => {
    await writeFiles(1, 20);
    expect((await cli(['backup', folder(), '--host', 'laptop'])).code).toBe(0);
    await writeFiles(2, 400);
    const child = start(['backup', folder(), '--host', 'laptop']);
    await until(async () => (await objectCount('laptop/')) > 20 + 60, 'the backup to upload some files');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));

    // The dead backup's lock must not block forget or prune for half an hour.
    const forgot = await cli(['forget', '--keep-last', '1', '--prune']);
    expect(forgot.stderr).toBe('');
    expect(forgot.code).toBe(0);
    const again = await cli(['--json', 'backup', folder(), '--host', 'laptop']);
    expect(again.code).toBe(0);
    const target = join(work, 'restored-1');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(folder()));
    const verified = await cli(['verify', '--read-data']);
    expect(verified.code).toBe(0);
  });

  it('a prune killed while deleting leaves every kept snapshot whole, and the next backup runs at once', async () => {
    for (const round of [3, 4, 5]) {
      await writeFiles(round, 150);
      expect((await cli(['backup', folder(), '--host', 'laptop'])).code).toBe(0);
    }
    expect((await cli(['forget', '--keep-last', '1'])).code).toBe(0);
    const before = await objectCount('laptop/');
    const child = start(['prune']);
    await until(async () => (await objectCount('laptop/')) < before, 'the prune to delete something');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));

    const target = join(work, 'restored-2');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(folder()));
    await writeFiles(6, 10);
    const next = await cli(['backup', folder(), '--host', 'laptop']);
    expect(next.stderr).not.toMatch(/lock/i);
    expect(next.code).toBe(0);
    expect((await cli(['prune'])).code).toBe(0);
    expect((await cli(['verify', '--read-data'])).code).toBe(0);
  });
});
