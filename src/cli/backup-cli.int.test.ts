import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../test/cli.js';
import { adminClient, s3Server, uniqueBucketName } from '../../test/s3.js';
import { describeTree } from '../../test/tree.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('the snapshot commands against MinIO', () => {
  let work: string;
  let home: string;
  let bucket: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]) => runCli(args, { cwd: work, home, env });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-minio-cli-'));
    home = join(work, 'home');
    await mkdir(home);
    bucket = uniqueBucketName('cli');
    env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio!.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: `s3://${bucket}/backups`,
    };
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('inits (creating the bucket), backs up, lists, diffs and restores exactly', async () => {
    const source = join(work, 'Documents');
    await mkdir(join(source, 'taxes'), { recursive: true });
    await writeFile(join(source, 'taxes', '2025.pdf'), 'pdf bytes');
    await writeFile(join(source, 'todo.txt'), 'buy milk');
    const init = await cli(['init', '--create-bucket']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);

    const first = JSON.parse((await cli(['--json', 'backup', source, '--host', 'laptop'])).stdout);
    expect(first.files).toEqual({ new: 2, changed: 0, unchanged: 0, skipped: 0 });
    await writeFile(join(source, 'todo.txt'), 'buy milk and eggs');
    await writeFile(join(source, 'copy.pdf'), 'pdf bytes');
    const second = JSON.parse((await cli(['--json', 'backup', source, '--host', 'laptop'])).stdout);
    expect(second.files).toEqual({ new: 1, changed: 1, unchanged: 1, skipped: 0 });
    expect(second.bytesUploaded).toBe('buy milk and eggs'.length);

    // Content objects are plain, browsable objects under <host>/<stamp>/<source>/<path>.
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: adminClient(minio!) },
      { Bucket: bucket, Prefix: 'backups/laptop/' },
    )) {
      for (const object of page.Contents ?? []) keys.push(object.Key!);
    }
    expect(keys).toContain(`backups/laptop/${first.stamp}/Documents/taxes/2025.pdf`);
    expect(keys).toContain(`backups/laptop/${second.stamp}/Documents/todo.txt`);
    expect(keys.filter((key) => key.endsWith('copy.pdf'))).toEqual([]);

    const snapshots = JSON.parse((await cli(['--json', 'snapshots'])).stdout);
    expect(snapshots.map((s: { id: string }) => s.id)).toEqual([first.id, second.id]);
    const diff = JSON.parse(
      (await cli(['--json', 'diff', first.id.slice(0, 8), second.id.slice(0, 8)])).stdout,
    );
    expect(diff).toMatchObject({
      added: ['Documents/copy.pdf'],
      removed: [],
      changed: ['Documents/todo.txt'],
    });
    expect((await cli(['ls', `laptop/${first.stamp}`])).stdout).toContain('Documents/taxes/2025.pdf');

    const target = join(work, 'restored');
    const restored = await cli(['restore', 'latest', '--target', target]);
    expect(restored.code).toBe(0);
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(source));
  });

  it('survives SIGKILL mid-upload: no new snapshot appears and the next backup completes', async () => {
    const source = join(work, 'crash');
    await mkdir(source);
    const chunk = Buffer.alloc(256 * 1024, 2);
    for (let i = 0; i < 200; i++) {
      chunk.writeUInt32BE(i, 0);
      await writeFile(join(source, `f${String(i).padStart(3, '0')}.bin`), chunk);
    }
    const before = JSON.parse((await cli(['--json', 'snapshots'])).stdout).length;
    const child = startCli(['backup', source, '--host', 'crashy'], { cwd: work, home, env });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let uploaded = 0;
    for (let i = 0; i < 400 && uploaded < 5; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const page = await adminClient(minio!).send(
        new (await import('@aws-sdk/client-s3')).ListObjectsV2Command({
          Bucket: bucket,
          Prefix: 'backups/crashy/',
        }),
      );
      uploaded = page.KeyCount ?? 0;
    }
    child.kill('SIGKILL');
    await exited;
    expect(uploaded).toBeGreaterThanOrEqual(5);
    expect(JSON.parse((await cli(['--json', 'snapshots'])).stdout)).toHaveLength(before);

    const next = await cli(['--json', 'backup', source, '--host', 'crashy']);
    expect(next.code).toBe(0);
    const target = join(work, 'crash-restored');
    expect((await cli(['restore', 'latest', '--host', 'crashy', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'crash'))).toEqual(await describeTree(source));
  });
});
