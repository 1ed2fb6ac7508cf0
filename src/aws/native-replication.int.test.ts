import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetBucketReplicationCommand, GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { adminClient, createTestBucket, s3Server } from '../../test/s3.js';
import { planNativeReplication } from './native-replication.js';

const moto = s3Server('moto');

describe('planNativeReplication', () => {
  it('keeps keys as they are: the replica must use the same prefix', () => {
    expect(() =>
      planNativeReplication({
        source: { bucket: 'src-bkt', prefix: 'a' },
        destination: { bucket: 'dst-bkt', prefix: 'b' },
      }),
    ).toThrow(/must use the repository's prefix \("a"\)/);
  });
});

describe.skipIf(!moto)('twinvault replication native, against moto', () => {
  let work: string;
  let home: string;
  let source: string;
  let replica: string;
  const cleanups: Array<() => Promise<void>> = [];
  const env = () => ({
    AWS_ENDPOINT_URL: moto!.endpoint,
    AWS_ACCESS_KEY_ID: moto!.accessKeyId,
    AWS_SECRET_ACCESS_KEY: moto!.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
  const cli = (args: string[]) =>
    runCli(['--repo', `s3://${source}/laptop`, ...args], { cwd: work, home, env: env() });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-native-'));
    home = join(work, 'home');
    await mkdir(home);
    await writeFile(join(work, 'twinvault.json'), '{}');
    const a = await createTestBucket(moto!, 'native-src');
    const b = await createTestBucket(moto!, 'native-dst');
    source = a.bucket;
    replica = b.bucket;
    cleanups.push(a.cleanup, b.cleanup);
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('--print shows the plan and changes nothing; then versioning, the role and the rule are in place', async () => {
    const printed = await cli([
      '--json',
      'replication',
      'native',
      '--to',
      `s3://${replica}/laptop`,
      '--print',
    ]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout).replication.Rules[0]).toMatchObject({
      Filter: { Prefix: 'laptop/' },
      DeleteMarkerReplication: { Status: 'Disabled' },
    });
    const s3 = adminClient(moto!);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: source }))).Status).toBeUndefined();

    const applied = await cli(['--json', 'replication', 'native', '--to', `s3://${replica}/laptop`, '--rtc']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const result = JSON.parse(applied.stdout);
    expect(result).toMatchObject({
      roleCreated: true,
      roleArn: `arn:aws:iam::123456789012:role/twinvault-replication-${source}`,
    });
    for (const bucket of [source, replica]) {
      expect((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled');
    }
    const { ReplicationConfiguration } = await s3.send(new GetBucketReplicationCommand({ Bucket: source }));
    expect(ReplicationConfiguration?.Role).toBe(result.roleArn);
    // moto answers every rule with Filter {Prefix: ""} and delete markers off, whatever was sent;
    // the rule as sent is the one --print showed (checked above).
    expect(ReplicationConfiguration?.Rules?.[0]).toMatchObject({
      ID: 'twinvault',
      Status: 'Enabled',
      Destination: { Bucket: `arn:aws:s3:::${replica}`, ReplicationTime: { Status: 'Enabled' } },
    });
    const iam = new IAMClient({ endpoint: moto!.endpoint, region: 'us-east-1', credentials: moto! });
    const policy = await iam.send(
      new GetRolePolicyCommand({ RoleName: `twinvault-replication-${source}`, PolicyName: 'replicate' }),
    );
    const actions = JSON.parse(decodeURIComponent(policy.PolicyDocument!)).Statement.flatMap(
      (s: { Action: string[] }) => s.Action,
    );
    expect(actions).not.toContain('s3:ReplicateDelete');

    const again = JSON.parse(
      (await cli(['--json', 'replication', 'native', '--to', `s3://${replica}/laptop`])).stdout,
    );
    expect(again.roleCreated).toBe(false);
    iam.destroy();
    s3.destroy();
  });
});
