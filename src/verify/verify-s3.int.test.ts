import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { adminClient, connectionSettings, s3Server, uniqueBucketName } from '../../test/s3.js';
import { type MinioServer, startMinio } from '../../test/servers/minio.js';
import { describeTree } from '../../test/tree.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('verify and repair from the command line, on MinIO', () => {
  let work: string;
  let source: string;
  const primary = uniqueBucketName('verify-primary');
  const replica = uniqueBucketName('verify-replica');
  const cli = (args: string[]) =>
    runCli(['--config', join(work, 'twinvault.json'), ...args], {
      cwd: work,
      home: join(work, 'home'),
      env: {},
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-verify-'));
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
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('names every kind of damage, repairs it from the replica, and is clean afterwards', async () => {
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    await writeFile(join(source, 'flip.txt'), 'flip these bytes');
    await writeFile(join(source, 'gone.txt'), 'to be deleted');
    await writeFile(join(source, 'cut.txt'), 'to be truncated');
    const first = JSON.parse((await cli(['--json', 'backup'])).stdout);
    await writeFile(join(source, 'later.txt'), 'second snapshot');
    const second = JSON.parse((await cli(['--json', 'backup'])).stdout);
    expect((await cli(['replicate'])).code).toBe(0);
    expect((await cli(['verify', '--replicas', '--read-data'])).code).toBe(0);

    const s3 = adminClient(minio!);
    const key = (name: string) => `repo/laptop/${first.stamp}/Documents/${name}`;
    await s3.send(new PutObjectCommand({ Bucket: primary, Key: key('flip.txt'), Body: 'FLIP these bytes' }));
    await s3.send(new DeleteObjectCommand({ Bucket: primary, Key: key('gone.txt') }));
    await s3.send(new PutObjectCommand({ Bucket: primary, Key: key('cut.txt'), Body: 'to be' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: primary,
        Key: `repo/.twinvault/snapshots/laptop/${second.stamp}.json.gz`,
        Body: 'junk',
      }),
    );
    s3.destroy();

    const verified = await cli(['--json', 'verify', '--read-data']);
    expect(verified.code).toBe(5);
    const report = JSON.parse(verified.stdout);
    expect(report.ok).toBe(false);
    expect(report.repositories[0].problems.map((p: { kind: string }) => p.kind).sort()).toEqual([
      'corrupt',
      'damaged-manifest',
      'missing',
      'wrong-size',
    ]);
    const text = await cli(['verify']);
    expect(text.stdout).toContain(
      `missing: laptop/${first.stamp}/Documents/gone.txt is missing; hurts ${first.id.slice(0, 8)}`,
    );
    expect(text.stdout).toContain('fix: twinvault repair --from REPLICA_URL');

    const repaired = JSON.parse(
      (await cli(['--json', 'repair', '--from', `s3://${replica}/repo`, '--read-data'])).stdout,
    );
    expect(repaired.repaired).toHaveLength(4);
    expect(repaired.unrepaired).toEqual([]);
    expect((await cli(['verify', '--read-data', '--replicas'])).code).toBe(0);
    const target = join(work, 'restored');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(source));
  });
});

describe.skipIf(!minio)('restore when the primary server is down', () => {
  let work: string;
  let primaryServer: MinioServer | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-fallback-'));
    primaryServer = await startMinio();
  });
  afterAll(async () => {
    await primaryServer?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('says how to restore from the replica, and does so with --fallback', async () => {
    const source = join(work, 'Documents');
    await mkdir(join(work, 'home'));
    await mkdir(source);
    await writeFile(join(source, 'precious.txt'), 'the only copy');

    const replicaUrl = `s3://${uniqueBucketName('fallback-replica')}/repo`;
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({
        repository: {
          url: `s3://${uniqueBucketName('fallback-primary')}/repo`,
          ...connectionSettings(primaryServer!),
          maxAttempts: 1,
        },
        host: 'laptop',
        sources: [{ path: source }],
        replicas: [{ url: replicaUrl, ...connectionSettings(minio!) }],
      }),
    );
    const cli = (args: string[]) =>
      runCli(['--config', join(work, 'twinvault.json'), ...args], {
        cwd: work,
        home: join(work, 'home'),
        env: {},
      });
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    expect((await cli(['backup'])).code).toBe(0);
    expect((await cli(['replicate'])).code).toBe(0);

    await primaryServer!.stop();
    primaryServer = undefined;
    const refused = await cli(['restore', 'latest', '--target', join(work, 'r1')]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('add --fallback');
    expect(refused.stderr).toContain(replicaUrl);

    const restored = await cli(['restore', 'latest', '--fallback', '--target', join(work, 'r2')]);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toContain('restoring from the replica');
    expect(await describeTree(join(work, 'r2', 'Documents'))).toEqual(await describeTree(source));
  });
});
