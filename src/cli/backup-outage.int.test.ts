import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../test/cli.js';
import { createTestBucket, s3Server } from '../../test/s3.js';
import { FaultyProxy } from '../../test/servers/faulty-proxy.js';
import { describeTree } from '../../test/tree.js';

const minio = s3Server('minio');

/** Polls until `check` holds (generous: these tests never assert on timing). */
async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!minio)('a backup while the store restarts or stalls (MinIO behind a proxy)', () => {
  let work: string;
  let home: string;
  let bucket: string;
  let cleanup: () => Promise<void>;
  let proxy: FaultyProxy;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-outage-'));
    home = join(work, 'home');
    await mkdir(home);
    ({ bucket, cleanup } = await createTestBucket(minio!, 'outage'));
    proxy = await new FaultyProxy(minio!.endpoint).start();
    env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
  });
  afterAll(async () => {
    await proxy?.stop();
    await cleanup?.();
    await rm(work, { recursive: true, force: true });
  });

  async function configFor(name: string, repository: Record<string, unknown>): Promise<string> {
    const file = join(work, `${name}.json`);
    const url = `s3://${bucket}/${name}`;
    await writeFile(file, JSON.stringify({ repository: { url, endpoint: proxy.endpoint, ...repository } }));
    return file;
  }

  async function sourceWith(name: string, files: number): Promise<string> {
    const source = join(work, name);
    await mkdir(source);
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < files; i++) {
      chunk.writeUInt32BE(i, 0);
      await writeFile(join(source, `f${String(i).padStart(3, '0')}.bin`), chunk);
    }
    return source;
  }

  it('goes on after the store was unreachable for a few seconds, printing "retrying" lines', async () => {
    const config = await configFor('restart', {});
    const source = await sourceWith('restart-src', 300);
    expect((await runCli(['--config', config, 'init'], { cwd: work, home, env })).code).toBe(0);

    const child = startCli(['--config', config, 'backup', source, '--host', 'box'], { cwd: work, home, env });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    const contentPuts = () => proxy.seen.filter((r) => r.method === 'PUT' && r.url.includes('/box/')).length;
    await until('some uploads', () => contentPuts() >= 20);
    proxy.down = true;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    proxy.down = false;
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/retrying put box\/\d{8}_\d{6}\/restart-src\/f\d+\.bin in .*: .*\(gives up in/);

    const target = join(work, 'restart-restored');
    const restored = await runCli(['--config', config, 'restore', 'latest', '--target', target], {
      cwd: work,
      home,
      env,
    });
    expect(restored.code).toBe(0);
    expect(await describeTree(join(target, 'restart-src'))).toEqual(await describeTree(source));
  });

  it('says so while a stalled store is tried again, then fails with a clear error and no snapshot', async () => {
    const config = await configFor('stall', { requestTimeout: '1s', maxAttempts: 3, retryFor: '4s' });
    const source = await sourceWith('stall-src', 300);
    expect((await runCli(['--config', config, 'init'], { cwd: work, home, env })).code).toBe(0);

    // Stalled from the start: the repository's config is read first, and its attempts are told.
    proxy.stalled = true;
    try {
      const run = await runCli(['--config', config, 'backup', source], { cwd: work, home, env });
      expect(run.code).toBe(6);
      expect(run.stderr).toContain('retrying: the store failed (no answer in time); attempt 2 of 3');
      expect(run.stderr).toMatch(/twinvault: .*no answer within the request timeout/);
    } finally {
      proxy.stalled = false;
    }

    // Stalled in the middle of the uploads: each attempt, then each retry of the whole upload.
    const child = startCli(['--config', config, 'backup', source, '--host', 'box'], { cwd: work, home, env });
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    const puts = proxy.seen.length;
    await until('some uploads', () => proxy.seen.slice(puts).filter((r) => r.method === 'PUT').length >= 20);
    proxy.stalled = true;
    try {
      expect(await exited).toBe(6);
    } finally {
      proxy.stalled = false;
    }
    expect(stderr).toMatch(/retrying put box\/\S+ \(attempt 1 failed\): no answer in time \(gives up in/);
    expect(stderr).toMatch(/retrying put box\/\S+ in .*no answer within the request timeout/);
    expect(stderr).toMatch(/twinvault: .*no answer within the request timeout.*\(retried for \d+ s\)/);
    const list = await runCli(['--config', config, '--json', 'snapshots'], { cwd: work, home, env });
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
