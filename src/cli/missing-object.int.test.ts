import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { adminClient, createTestBucket, s3Server } from '../../test/s3.js';
import { describeTree } from '../../test/tree.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('an object deleted from the repository (MinIO)', () => {
  let work: string;
  let home: string;
  let bucket: string;
  let cleanup: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[]) => runCli(args, { cwd: work, home, env });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-missing-cli-'));
    home = join(work, 'home');
    await mkdir(home);
    ({ bucket, cleanup } = await createTestBucket(minio!, 'missing'));
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

  it('is uploaded again by the next backup although the file did not change; that snapshot restores', async () => {
    const source = join(work, 'Documents');
    await mkdir(source);
    await writeFile(join(source, 'contract.pdf'), 'signed contract');
    await writeFile(join(source, 'notes.txt'), 'notes');
    expect((await cli(['init'])).code).toBe(0);
    const first = JSON.parse((await cli(['--json', 'backup', source, '--host', 'laptop'])).stdout);
    // A check the next day, with nothing missing yet, sets the daily rhythm.
    expect(
      JSON.parse((await cli(['--json', 'backup', source, '--host', 'laptop'])).stdout).missingObjects,
    ).toBe(0);

    const lost = `laptop/${first.stamp}/Documents/contract.pdf`;
    const s3 = adminClient(minio!);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `backups/${lost}` }));
    // Within the day, a plain backup does not look; --check-stored looks now.
    const checked = await cli(['--json', 'backup', source, '--host', 'laptop', '--check-stored']);
    expect(checked.code).toBe(0);
    const summary = JSON.parse(checked.stdout);
    expect(summary.missingObjects).toBe(1);
    expect(summary.notes).toContainEqual({ path: lost, message: expect.stringContaining('missing') });
    expect(summary.bytesUploaded).toBe('signed contract'.length);
    const again = `backups/laptop/${summary.stamp}/Documents/contract.pdf`;
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: again }))).ContentLength).toBe(15);

    const target = join(work, 'restored');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(source));
    const verify = await cli(['--json', 'verify']);
    const problems = JSON.parse(verify.stdout).repositories[0].problems as Array<{ snapshots: string[] }>;
    // Only the two older snapshots still miss it; the newest is whole.
    expect(problems).toHaveLength(1);
    expect(problems[0]!.snapshots).toHaveLength(2);
    expect(JSON.stringify(problems[0]!.snapshots)).not.toContain(summary.id.slice(0, 8));
  });

  it("notices an object of another host's folder that its snapshot shares, gone, and uploads the file again", async () => {
    const desk = join(work, 'desk-files');
    const laptop = join(work, 'laptop-files');
    await mkdir(desk);
    await mkdir(laptop);
    await writeFile(join(desk, 'manual.pdf'), 'the same manual on both machines');
    await writeFile(join(laptop, 'manual.pdf'), 'the same manual on both machines');
    await writeFile(join(laptop, 'own.txt'), 'only here');
    const fromDesk = JSON.parse((await cli(['--json', 'backup', desk, '--host', 'desk'])).stdout);
    const first = JSON.parse((await cli(['--json', 'backup', laptop, '--host', 'laptop'])).stdout);
    expect(first.bytesUploaded).toBe('only here'.length); // the manual is the desk's object
    const shared = `desk/${fromDesk.stamp}/desk-files/manual.pdf`;
    const s3 = adminClient(minio!);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `backups/${shared}` }));

    const checked = await cli(['--json', 'backup', laptop, '--host', 'laptop', '--check-stored']);
    expect(checked.code).toBe(0);
    const summary = JSON.parse(checked.stdout);
    expect(summary.missingObjects).toBe(1);
    expect(summary.notes).toContainEqual({ path: shared, message: expect.stringContaining('missing') });
    expect(summary.bytesUploaded).toBe('the same manual on both machines'.length);
    const target = join(work, 'restored-laptop');
    expect((await cli(['restore', 'latest', '--host', 'laptop', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'laptop-files'))).toEqual(await describeTree(laptop));
  });
});
