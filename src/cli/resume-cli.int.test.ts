import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../test/cli.js';
import { adminClient, createTestBucket, s3Server } from '../../test/s3.js';
import { describeTree } from '../../test/tree.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('a backup killed part way resumes (MinIO)', () => {
  let work: string;
  let home: string;
  let bucket: string;
  let cleanup: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]) => runCli(args, { cwd: work, home, env });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-resume-cli-'));
    home = join(work, 'home');
    await mkdir(home);
    ({ bucket, cleanup } = await createTestBucket(minio!, 'resume'));
    env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio!.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: `s3://${bucket}/backups`,
    };
  });
  afterAll(async () => {
    await cleanup?.();
    await rm(work, { recursive: true, force: true });
  });

  async function contentObjects(): Promise<Map<string, number>> {
    const objects = new Map<string, number>();
    for await (const page of paginateListObjectsV2(
      { client: adminClient(minio!) },
      { Bucket: bucket, Prefix: 'backups/laptop/' },
    )) {
      for (const object of page.Contents ?? [])
        objects.set(object.Key!.slice('backups/'.length), object.Size!);
    }
    return objects;
  }

  it('after SIGKILL, the next run uploads only what the killed one had not, and restores exactly', async () => {
    const source = join(work, 'Pictures');
    await mkdir(source);
    const chunk = Buffer.alloc(256 * 1024);
    let total = 0;
    for (let i = 0; i < 200; i++) {
      chunk.fill(i);
      chunk.writeUInt32BE(i, 0);
      await writeFile(join(source, `img${String(i).padStart(3, '0')}.raw`), chunk);
      total += chunk.length;
    }
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    const child = startCli(['backup', source, '--host', 'laptop'], { cwd: work, home, env });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 2000 && (await contentObjects()).size < 60; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    child.kill('SIGKILL');
    await exited;
    const left = await contentObjects();
    expect(left.size).toBeGreaterThanOrEqual(60);
    expect(left.size).toBeLessThan(200);
    const leftBytes = [...left.values()].reduce((a, b) => a + b, 0);

    const next = await cli(['--json', 'backup', source, '--host', 'laptop']);
    expect(next.code).toBe(0);
    const summary = JSON.parse(next.stdout);
    expect(summary.files.new).toBe(200);
    expect(summary.resumed).toEqual({ files: left.size, bytes: leftBytes });
    expect(summary.bytesUploaded).toBe(total - leftBytes);
    // Nothing was uploaded twice: every object of the killed run is still the only copy.
    const after = await contentObjects();
    expect(after.size).toBe(200);
    for (const key of left.keys()) expect(after.has(key)).toBe(true);

    const target = join(work, 'restored');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'Pictures'))).toEqual(await describeTree(source));
    // And nothing is left for prune to remove: the leftovers are all referenced now.
    const pruned = JSON.parse((await cli(['--json', 'prune'])).stdout);
    expect(pruned.unreferenced.objects).toBe(0);
  });
});
