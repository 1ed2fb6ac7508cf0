import { GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { applyLifecycle, lifecycleRules } from '../../aws/lifecycle.js';
import { s3Options } from '../../backend/registry.js';
import { createS3Client } from '../../backend/s3/client.js';
import { parseRepositoryUrl } from '../../config/repository-url.js';
import type { RepositoryConfig } from '../../config/schema.js';
import { UsageError } from '../../errors.js';
import { listSnapshots } from '../../repository/snapshots.js';
import { withRepository } from '../context.js';
import { type GlobalOptions, printResult } from '../output.js';

/** A versioned bucket (Object Lock, S3 replication) keeps what prune deletes as old versions. */
async function isVersioned(
  settings: RepositoryConfig,
  location: { bucket: string; prefix: string },
): Promise<boolean> {
  const client = createS3Client(s3Options(settings, location.bucket, location.prefix, process.env));
  try {
    const { Status } = await client.send(new GetBucketVersioningCommand({ Bucket: location.bucket }));
    return Status === 'Enabled' || Status === 'Suspended';
  } finally {
    client.destroy();
  }
}

export interface LifecycleFlags {
  print?: boolean;
  apply?: boolean;
  iaDays: string;
  glacierIrDays: string;
  abortDays: string;
}

/** `twinvault lifecycle --print|--apply`: storage-class transitions for the repository's content. */
export async function run(global: GlobalOptions, flags: LifecycleFlags): Promise<void> {
  if (!flags.print === !flags.apply)
    throw new UsageError('give --print (show the rules) or --apply (write them)');
  const days = (value: string, flag: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`${flag} takes a whole number of days (${min} or more), not ${value}`);
    return n;
  };
  const ia = days(flags.iaDays, '--ia-days', 0);
  const glacier = days(flags.glacierIrDays, '--glacier-ir-days', 0);
  if (ia > 0 && ia < 30)
    throw new UsageError('S3 moves objects to Standard-IA after 30 days at the earliest (--ia-days)');
  if (ia > 0 && glacier > 0 && glacier < ia + 30) {
    throw new UsageError(
      '--glacier-ir-days must be at least 30 days after --ia-days (Standard-IA bills 30 days at least)',
    );
  }
  await withRepository(global, async ({ backend, config }) => {
    const location = parseRepositoryUrl(config.repository.url);
    if (location.kind !== 's3') throw new UsageError('lifecycle rules are for repositories in S3');
    const hosts = [
      ...new Set([
        ...(await listSnapshots(backend)).map((ref) => ref.host),
        ...(config.host ? [config.host] : []),
      ]),
    ];
    const rules = lifecycleRules({
      prefix: location.prefix,
      hosts,
      infrequentAccessDays: ia,
      glacierInstantDays: glacier,
      abortMultipartDays: days(flags.abortDays, '--abort-days', 1),
      versioned:
        config.repository.objectLock !== undefined || (await isVersioned(config.repository, location)),
    });
    if (flags.print) {
      printResult(global, { bucket: location.bucket, rules }, () => [
        JSON.stringify({ Rules: rules }, null, 2),
      ]);
      return;
    }
    const client = createS3Client(
      s3Options(config.repository, location.bucket, location.prefix, process.env),
    );
    try {
      const kept = await applyLifecycle(client, location.bucket, rules);
      printResult(global, { bucket: location.bucket, rules, otherRulesKept: kept }, () => [
        `wrote ${rules.length} lifecycle rule(s) to ${location.bucket} (hosts: ${hosts.join(', ') || 'none yet'}); kept ${kept} other rule(s)`,
        'run it again when a new host starts backing up to this repository',
      ]);
    } finally {
      client.destroy();
    }
  });
}
