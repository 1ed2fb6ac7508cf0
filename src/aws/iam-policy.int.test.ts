import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import type { S3ServerInfo } from '../../test/servers/global-setup.js';
import { bodyFromBuffer } from '../backend/body.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import { replicatePass } from '../replicate/pass.js';
import { initRepository, openRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { iamPolicy, type PolicyRequest } from './iam-policy.js';

const minio = s3Server('minio');

/**
 * Credentials limited to a generated policy: MinIO's STS AssumeRole with the policy as the
 * session policy, so MinIO itself enforces exactly what the policy allows.
 */
async function limitedTo(server: S3ServerInfo, request: PolicyRequest) {
  const sts = new STSClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  try {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:xxx:xxx:xxx:xxxx',
        RoleSessionName: request.role,
        Policy: JSON.stringify(iamPolicy(request)),
        DurationSeconds: 900,
      }),
    );
    return {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    };
  } finally {
    sts.destroy();
  }
}

const denied = (promise: Promise<unknown>) =>
  expect(promise).rejects.toMatchObject({ code: 'ACCESS_DENIED' });

describe.skipIf(!minio)('the generated IAM policies, enforced by MinIO', () => {
  let dir: string;
  let folder: string;
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const cleanups: Array<() => Promise<void>> = [];
  const buckets: Record<'primary' | 'replica' | 'other', string> = { primary: '', replica: '', other: '' };
  const url = (bucket: string) => `s3://${bucket}/repo`;
  const as = (bucket: string, credentials?: Awaited<ReturnType<typeof limitedTo>>) =>
    testBackend(minio!, bucket, credentials ? { credentials } : {});

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinvault-iam-'));
    folder = join(dir, 'Documents');
    await mkdir(folder);
    await writeFile(join(folder, 'a.txt'), 'alpha');
    for (const name of ['primary', 'replica', 'other'] as const) {
      const created = await createTestBucket(minio!, `iam-${name}`);
      buckets[name] = created.bucket;
      cleanups.push(created.cleanup);
    }
    await initRepository(as(buckets.primary), { clock });
    await initRepository(as(buckets.other), { clock });
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('agent: backs up as its host; cannot delete, write as another host, or read another repository', async () => {
    const credentials = await limitedTo(minio!, {
      role: 'agent',
      repository: url(buckets.primary),
      host: 'laptop',
    });
    const backend = as(buckets.primary, credentials);
    const repository = await openRepository(backend);
    await writeFile(join(folder, 'a.txt'), 'alpha, by the agent');
    clock.advance(60_000);
    const summary = await backup({
      repository,
      sources: [{ path: folder }],
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
    });
    expect(summary.written).toBe(true);
    const key = `laptop/${summary.stamp}/Documents/a.txt`;
    expect((await backend.head(key)).size).toBe('alpha, by the agent'.length);

    await denied(backend.delete(key));
    await denied(backend.put('desktop/20260101_000000/Documents/x.txt', bodyFromBuffer('x')));
    await denied(backend.put('.twinvault/snapshots/desktop/20260101_000000.json.gz', bodyFromBuffer('x')));
    await denied(backend.put('.twinvault/config.json', bodyFromBuffer('{}')));
    await denied(as(buckets.other, credentials).get('.twinvault/config.json'));
    await denied(openRepository(as(buckets.other, credentials)));
  });

  it('replicator: copies the repository to its replica; cannot delete there (keep) or write the source', async () => {
    const credentials = await limitedTo(minio!, {
      role: 'replicator',
      repository: url(buckets.primary),
      replica: url(buckets.replica),
    });
    const source = as(buckets.primary, credentials);
    const destination = as(buckets.replica, credentials);
    const summary = await replicatePass({ source, destination });
    expect(summary.objects.failed).toBe(0);
    expect(summary.manifests.copied).toBeGreaterThan(0);
    const [key] = (await listSnapshots(destination)).map((ref) => ref.key);
    await denied(destination.delete(key!));
    await denied(source.put('laptop/20260101_000000/Documents/x.txt', bodyFromBuffer('x')));
    await denied(as(buckets.other, credentials).get('.twinvault/config.json'));
  });

  it('restore: restores from the repository and its replica, and writes nothing', async () => {
    const credentials = await limitedTo(minio!, {
      role: 'restore',
      repository: url(buckets.primary),
      replica: url(buckets.replica),
    });
    for (const bucket of [buckets.primary, buckets.replica]) {
      const backend = as(bucket, credentials);
      const ref = (await listSnapshots(backend)).at(-1)!;
      const target = join(dir, `restored-${bucket}`);
      await restore({ repository: await openRepository(backend), snapshot: ref, target });
      await denied(backend.put('laptop/x.txt', bodyFromBuffer('x')));
    }
  });
});
