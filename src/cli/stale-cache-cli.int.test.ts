import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { adminClient, connectionSettings, s3Server, uniqueBucketName } from '../../test/s3.js';

const minio = s3Server('minio');

/**
 * A warm manifest cache against a manifest damaged in a MinIO bucket (stale-cache-cli.test.ts does
 * the same on a local folder): the cached copy is proven to be the bucket's by the listing's size
 * and ETag (the MD5 of a plain upload), so a copy changed in the bucket is never taken for it.
 */
describe.skipIf(!minio)('a warm manifest cache and a manifest damaged on MinIO', () => {
  let work: string;
  let s3: S3Client;
  const bucket = uniqueBucketName('stale-cache');
  const stamps: string[] = [];
  const cli = (args: string[], home = 'home') =>
    runCli(['--config', join(work, 'twinvault.json'), ...args], {
      cwd: work,
      home: join(work, home),
      env: {},
    });
  const newestKey = () => `repo/.twinvault/snapshots/laptop/${stamps[2]}.json.gz`;
  let intact: Buffer;
  const put = (body: Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: newestKey(), Body: body }));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-stale-s3-'));
    const source = join(work, 'Documents');
    await mkdir(source);
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({
        repository: { url: `s3://${bucket}/repo`, ...connectionSettings(minio!) },
        host: 'laptop',
        sources: [{ path: source }],
      }),
    );
    s3 = adminClient(minio!);
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    for (const round of [1, 2, 3]) {
      await writeFile(join(source, 'a.txt'), `version ${round}`);
      const made = await cli(['--json', 'backup']);
      expect(made.code).toBe(0);
      stamps.push(JSON.parse(made.stdout).stamp);
    }
    // The cache is warm and proven: every manifest was written by this machine and listed.
    expect((await cli(['snapshots'])).code).toBe(0);
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: newestKey() }));
    intact = Buffer.from(await answer.Body!.transformToByteArray());
  });
  afterAll(async () => {
    s3?.destroy();
    await rm(work, { recursive: true, force: true });
  });

  it('restore latest --include passes over the truncated newest manifest, names it, and restores the one before', async () => {
    await put(intact.subarray(0, intact.length - 20));
    const target = join(work, 'out');
    const restored = await cli(['restore', 'latest', '--include', 'Documents/a.txt', '--target', target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toContain(`passed over snapshot laptop/${stamps[2]}, which cannot be read`);
    expect(restored.stderr).toContain(`${stamps[2]}.json.gz is damaged`);
    expect(restored.stderr).toContain(`(laptop/${stamps[1]})`);
    expect(await readFile(join(target, 'Documents/a.txt'), 'utf8')).toBe('version 2');

    // Named, the damaged snapshot restores from this machine's intact copy, and says so.
    const named = await cli(['restore', `laptop/${stamps[2]}`, '--target', join(work, 'named')]);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toContain("restored from this machine's intact cached copy");
    expect(await readFile(join(work, 'named/Documents/a.txt'), 'utf8')).toBe('version 3');
    await put(intact);
  });

  it('snapshots names a manifest whose header is gone in the bucket and exits 3; once repaired, lists it again', async () => {
    await put(intact.subarray(0, 30));
    const listed = await cli(['--json', 'snapshots']);
    expect(listed.code, listed.stderr).toBe(3);
    expect(JSON.parse(listed.stdout).map((s: { stamp: string }) => s.stamp)).toEqual(stamps.slice(0, 2));
    expect(listed.stderr).toContain(`(laptop/${stamps[2]}) is not listed`);
    // Put back as it was: the cached copy (kept, never overwritten by the damaged one) is proven again.
    await put(intact);
    const again = await cli(['--json', 'snapshots']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).map((s: { stamp: string }) => s.stamp)).toEqual(stamps);
  });
});
