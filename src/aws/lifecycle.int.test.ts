import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { adminClient, createTestBucket, s3Server } from '../../test/s3.js';

const moto = s3Server('moto');

describe.skipIf(!moto)('twinvault lifecycle, against moto', () => {
  let work: string;
  let bucket: string;
  const cleanups: Array<() => Promise<void>> = [];
  const cli = (args: string[]) =>
    runCli(args, {
      cwd: work,
      home: join(work, 'home'),
      env: {
        AWS_ENDPOINT_URL: moto!.endpoint,
        AWS_ACCESS_KEY_ID: moto!.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto!.secretAccessKey,
        AWS_REGION: 'us-east-1',
        TWINVAULT_REPOSITORY: `s3://${bucket}/repo`,
      },
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-lifecycle-'));
    await mkdir(join(work, 'home'));
    await mkdir(join(work, 'Documents'));
    await writeFile(join(work, 'Documents', 'a.txt'), 'alpha');
    const created = await createTestBucket(moto!, 'lifecycle');
    bucket = created.bucket;
    cleanups.push(created.cleanup);
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('moves content of each host to cheaper classes, leaves .twinvault/ alone, keeps other rules', async () => {
    expect((await cli(['init'])).code).toBe(0);
    expect((await cli(['backup', join(work, 'Documents'), '--host', 'laptop'])).code).toBe(0);
    const s3 = adminClient(moto!);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 3 } }],
        },
      }),
    );
    const printed = JSON.parse((await cli(['--json', 'lifecycle', '--print'])).stdout);
    expect(
      printed.rules.map((r: { ID: string; Filter: { Prefix: string } }) => [r.ID, r.Filter.Prefix]),
    ).toEqual([
      ['twinvault-abort-incomplete-uploads', 'repo/'],
      ['twinvault-content-laptop', 'repo/laptop/'],
    ]);
    const applied = await cli(['--json', 'lifecycle', '--apply']);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout).otherRulesKept).toBe(1);
    const { Rules } = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    expect(Rules?.map((r) => r.ID).sort()).toEqual([
      'logs',
      'twinvault-abort-incomplete-uploads',
      'twinvault-content-laptop',
    ]);
    const content = Rules?.find((r) => r.ID === 'twinvault-content-laptop');
    expect(content?.Transitions?.map((t) => [t.Days, t.StorageClass])).toEqual([
      [30, 'STANDARD_IA'],
      [90, 'GLACIER_IR'],
    ]);
    expect((await cli(['lifecycle', '--print', '--ia-days', '10'])).stderr).toContain(
      'after 30 days at the earliest',
    );
    s3.destroy();
  });

  it('moves content (never .twinvault/) to Deep Archive, warns without a replica, refuses too soon', async () => {
    const applied = await cli([
      'lifecycle',
      '--apply',
      '--glacier-ir-days',
      '0',
      '--deep-archive-days',
      '180',
    ]);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toContain('warning: no replica is configured');
    const s3 = adminClient(moto!);
    const { Rules } = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    const withTransitions = (Rules ?? []).filter((r) => (r.Transitions ?? []).length > 0);
    expect(
      withTransitions.map((r) => [r.Filter?.Prefix, r.Transitions?.map((t) => [t.Days, t.StorageClass])]),
    ).toEqual([
      [
        'repo/laptop/',
        [
          [30, 'STANDARD_IA'],
          [180, 'DEEP_ARCHIVE'],
        ],
      ],
    ]);
    const tooSoon = await cli(['lifecycle', '--print', '--glacier-days', '7']);
    expect(tooSoon.code).toBe(2);
    expect(tooSoon.stderr).toContain('--glacier-days 7 is too soon');

    // With a replica: it is checked first (fresh objects are weeks away from being archived).
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({ replicas: [{ url: `s3://${bucket}/replica` }] }),
    );
    const checked = await cli(['lifecycle', '--apply', '--glacier-ir-days', '0', '--glacier-days', '90']);
    expect(checked.code).toBe(0);
    expect(checked.stderr).toContain(
      'replicas checked: none lacks an object the rule would archive within 7 days',
    );
    s3.destroy();
  });
});
