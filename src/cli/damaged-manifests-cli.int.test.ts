import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { headerFor, hostileLongLine } from '../../test/manifests.js';
import { adminClient, connectionSettings, s3Server, uniqueBucketName } from '../../test/s3.js';
import { refFor } from '../repository/snapshots.js';

const minio = s3Server('minio');

/**
 * Damaged and hostile manifests on MinIO, through the command line: what a user meets when a
 * manifest in an S3 bucket is truncated, corrupted, forged or made to explode on inflation.
 */
describe.skipIf(!minio)('damaged and hostile manifests on MinIO', () => {
  let work: string;
  let s3: S3Client;
  let source: string;
  const primary = uniqueBucketName('damaged-primary');
  const replica = uniqueBucketName('damaged-replica');
  const cli = (args: string[], home = 'home') =>
    runCli(['--config', join(work, 'twinvault.json'), ...args], {
      cwd: work,
      home: join(work, home),
      env: {},
    });
  const manifestKey = (stamp: string) => `repo/.twinvault/snapshots/laptop/${stamp}.json.gz`;
  const get = async (bucket: string, key: string) =>
    Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
    );
  const put = (bucket: string, key: string, body: Buffer | string) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const manifests = async () =>
    JSON.parse((await cli(['--json', 'snapshots'])).stdout).map((s: { stamp: string }) => s.stamp);
  /** The manifests in the bucket, damaged or not (`snapshots` leaves out one it cannot read). */
  const stored = async () =>
    (
      (
        await s3.send(
          new ListObjectsV2Command({ Bucket: primary, Prefix: 'repo/.twinvault/snapshots/laptop/' }),
        )
      ).Contents ?? []
    ).map((object) => /(\d{8}_\d{6})\.json\.gz$/.exec(object.Key!)![1]);
  const stamps: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-damaged-s3-'));
    source = join(work, 'Documents');
    await mkdir(join(work, 'home'));
    await mkdir(source);
    const connection = connectionSettings(minio!);
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({
        repository: { url: `s3://${primary}/repo`, ...connection },
        host: 'laptop',
        sources: [{ path: source }],
        replicas: [{ url: `s3://${replica}/repo`, ...connection }],
      }),
    );
    s3 = adminClient(minio!);
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    for (const round of [1, 2, 3]) {
      await writeFile(join(source, 'a.txt'), `version ${round}`);
      await writeFile(join(source, `only-in-${round}.txt`), `snapshot ${round} alone`);
      const made = await cli(['--json', 'backup']);
      expect(made.code).toBe(0);
      stamps.push(JSON.parse(made.stdout).stamp);
    }
    expect((await cli(['replicate'])).code).toBe(0);
    expect((await cli(['verify', '--replicas', '--read-data'])).code).toBe(0);
  });
  afterAll(async () => {
    s3?.destroy();
    await rm(work, { recursive: true, force: true });
  });

  it('forget --keep-last 1 --prune refuses while the newest manifest is truncated, with a warm cache', async () => {
    expect(await manifests()).toEqual(stamps); // the cache is warm
    const newest = manifestKey(stamps[2]!);
    const intact = await get(primary, newest);
    await put(primary, newest, intact.subarray(0, intact.length - 20));
    const forgot = await cli(['forget', '--keep-last', '1', '--prune']);
    expect(forgot.code).toBe(5);
    expect(forgot.stderr).toContain(`.twinvault/snapshots/laptop/${stamps[2]}.json.gz`);
    expect(forgot.stderr).toContain('twinvault repair --from REPLICA');
    expect(await manifests()).toEqual(stamps);

    // Same size, other bytes: the ETag (the MD5 of a plain upload) tells the cached copy is stale.
    const flipped = Buffer.from(intact);
    flipped[flipped.length - 30]! ^= 0xff;
    await put(primary, newest, flipped);
    expect((await cli(['forget', '--keep-last', '1'])).code).toBe(5);
    expect(await stored()).toEqual(stamps);
    // The warm cache's intact copy is not taken for the bucket's: listed as a fresh machine would.
    const listed = await cli(['--json', 'snapshots']);
    expect(listed.code).toBe(3);
    expect(JSON.parse(listed.stdout).map((s: { stamp: string }) => s.stamp)).toEqual(stamps.slice(0, 2));

    // Repaired from the replica, forget does its work.
    expect((await cli(['repair', '--from', `s3://${replica}/repo`])).code).toBe(0);
    expect((await cli(['forget', '--keep-last', '3'])).code).toBe(0);
  });

  it('snapshots on a fresh machine lists the others and names a damaged manifest (exit 3)', async () => {
    const key = manifestKey(stamps[1]!);
    const intact = await get(primary, key);
    await put(primary, key, 'junk');
    const listed = await cli(['--json', 'snapshots'], 'fresh');
    expect(listed.code).toBe(3);
    expect(JSON.parse(listed.stdout).map((s: { stamp: string }) => s.stamp)).toEqual([stamps[0], stamps[2]]);
    expect(listed.stderr).toContain(`${stamps[1]}.json.gz is damaged`);
    await put(primary, key, intact);
  });

  it('a hostile manifest (600 KB inflating to one 600 MB line) is damaged for verify, forget and prune', async () => {
    const ref = refFor('laptop', '20200101_000000');
    const key = `repo/${ref.key}`;
    await put(
      primary,
      key,
      hostileLongLine(headerFor(ref, 1, { sources: [{ name: 'Documents', path: source }] })),
    );
    for (const args of [['verify'], ['forget', '--keep-last', '1'], ['prune']]) {
      const result = await cli(args, 'hostile');
      expect(result.code, args.join(' ')).toBe(5);
      expect(result.stdout + result.stderr).toContain(
        '20200101_000000.json.gz is damaged: line 2 is longer than 1 MiB',
      );
      expect(result.stderr).not.toMatch(/RangeError|bug in twinvault/);
    }
    await s3.send(
      new CopyObjectCommand({
        Bucket: primary,
        Key: key,
        CopySource: `${replica}/${manifestKey(stamps[0]!)}`,
      }),
    );
    const forged = await cli(['verify'], 'hostile');
    expect(forged.code).toBe(5);
    expect(forged.stdout).toContain('its header names another snapshot');
    await s3.send(new DeleteObjectCommand({ Bucket: primary, Key: key }));
    expect((await cli(['verify'])).code).toBe(0);
  });

  it('restore from a manifest with an unreadable line restores the rest and exits 3', async () => {
    // The replica has the same damage: no intact copy anywhere.
    const key = manifestKey(stamps[2]!);
    const intact = await get(primary, key);
    const lines = gunzipSync(intact).toString('utf8').trimEnd().split('\n');
    const victim = lines.findIndex((line) => line.includes('only-in-3.txt'));
    lines[victim] = lines[victim]!.slice(0, 30);
    const damaged = gzipSync(`${lines.join('\n')}\n`);
    await put(primary, key, damaged);
    await put(replica, key, damaged);
    const target = join(work, 'salvaged');
    const restored = await cli(['restore', 'latest', '--target', target], 'salvage');
    expect(restored.code).toBe(3);
    expect(restored.stderr).toContain(
      `the manifest .twinvault/snapshots/laptop/${stamps[2]}.json.gz is damaged`,
    );
    expect(restored.stderr).toMatch(/1 of its \d+ entries could not be read/);
    expect(await readFile(join(target, 'Documents/a.txt'), 'utf8')).toBe('version 3');
    await expect(readFile(join(target, 'Documents/only-in-3.txt'))).rejects.toThrow();
    await put(primary, key, intact);
    await put(replica, key, intact);
  });

  it('repair --read-data after repairing a manifest also repairs the corrupt object only it needs', async () => {
    const key = manifestKey(stamps[2]!);
    const object = `repo/laptop/${stamps[2]}/Documents/only-in-3.txt`;
    await put(primary, key, 'junk');
    await put(primary, object, 'SNAPSHOT 3 alone');
    const repaired = await cli(['--json', 'repair', '--from', `s3://${replica}/repo`, '--read-data']);
    expect(repaired.code).toBe(0);
    expect(JSON.parse(repaired.stdout).repaired).toEqual(
      expect.arrayContaining([key.slice(5), object.slice(5)]),
    );
    expect((await cli(['verify', '--read-data'])).code).toBe(0);
  });
});
