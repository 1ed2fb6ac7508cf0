import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { adminClient, createTestBucket, s3Server } from '../../test/s3.js';
import { ensureCfnLint } from '../../test/servers/cfn-lint.js';
import { replicatorTemplate } from './replicator-template.js';

const moto = s3Server('moto');

describe('the replicator CloudFormation template', () => {
  it('passes cfn-lint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinvault-cfn-'));
    try {
      const file = join(dir, 'replicator.json');
      await writeFile(file, JSON.stringify(replicatorTemplate(), null, 2));
      const lint = spawnSync(ensureCfnLint(), [file], { encoding: 'utf8' });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!moto)('twinvault deploy, against moto', () => {
  let work: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cleanups: Array<() => Promise<void>> = [];
  let source: string;
  let replica: string;
  const cli = (args: string[]) =>
    runCli(['--config', join(work, 'twinvault.json'), ...args], { cwd: work, home, env });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-deploy-'));
    home = join(work, 'home');
    await mkdir(home);
    const a = await createTestBucket(moto!, 'deploy-src');
    const b = await createTestBucket(moto!, 'deploy-dst');
    source = a.bucket;
    replica = b.bucket;
    cleanups.push(a.cleanup, b.cleanup);
    env = {
      AWS_ENDPOINT_URL: moto!.endpoint,
      AWS_ACCESS_KEY_ID: moto!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto!.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({
        repository: `s3://${source}/laptop`,
        replicas: [{ url: `s3://${replica}/laptop`, deletes: 'delay', deleteAfter: '7d' }],
      }),
    );
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('creates the stack, turns on EventBridge for the bucket, updates, and deletes', async () => {
    const created = await cli(['--json', 'deploy', '--alarm-email', 'ops@example.com', '--lag-alarm', '2h']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const result = JSON.parse(created.stdout);
    expect(result).toMatchObject({
      stackName: 'twinvault-replicator',
      action: 'created',
      status: 'CREATE_COMPLETE',
      eventBridgeTurnedOn: true,
    });
    expect(Object.keys(result.outputs).sort()).toEqual([
      'AlarmTopicArn',
      'DeadLetterQueueUrl',
      'FunctionArn',
    ]);

    const cloudFormation = new CloudFormationClient({
      endpoint: moto!.endpoint,
      region: 'us-east-1',
      credentials: moto!,
    });
    const { StackResources } = await cloudFormation.send(
      new DescribeStackResourcesCommand({ StackName: 'twinvault-replicator' }),
    );
    // moto creates all 14 resources but names only those it models (not alarms, the queue
    // policy, the subscription).
    expect(StackResources).toHaveLength(14);
    expect(StackResources!.every((r) => r.ResourceStatus === 'CREATE_COMPLETE')).toBe(true);
    expect(StackResources!.flatMap((r) => (r.LogicalResourceId ? [r.LogicalResourceId] : [])).sort()).toEqual(
      [
        'AlarmTopic',
        'DeadLetterQueue',
        'Function',
        'LogGroup',
        'ObjectCreatedPermission',
        'ObjectCreatedRule',
        'Role',
        'SchedulePermission',
        'ScheduleRule',
      ],
    );
    const { Stacks } = await cloudFormation.send(
      new DescribeStacksCommand({ StackName: 'twinvault-replicator' }),
    );
    expect(Stacks![0]!.Parameters).toContainEqual({
      ParameterKey: 'LagAlarmSeconds',
      ParameterValue: '7200',
    });
    const refused = await cli(['deploy', '--lag-alarm', '10s']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--lag-alarm "10s" is not a duration of at least 1m');
    const s3 = adminClient(moto!);
    const code = await s3.send(
      new ListObjectsV2Command({ Bucket: replica, Prefix: 'laptop/.twinvault/deploy/' }),
    );
    expect(code.Contents?.map((o) => o.Key)).toEqual([
      expect.stringMatching(/^laptop\/\.twinvault\/deploy\/replicate-[0-9a-f]{16}\.zip$/),
    ]);

    const again = JSON.parse((await cli(['--json', 'deploy'])).stdout);
    expect(['updated', 'unchanged']).toContain(again.action);
    // (moto stores EventBridgeConfiguration but never returns it, so it cannot say it is on:
    // bucket-events.test.ts checks the request itself.)

    const deleted = await cli(['--json', 'deploy', '--delete']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ stack: 'twinvault-replicator', deleted: true });
    await expect(
      cloudFormation.send(new DescribeStacksCommand({ StackName: 'twinvault-replicator' })),
    ).rejects.toThrow(/does not exist/);
    cloudFormation.destroy();
    s3.destroy();
  });
});
