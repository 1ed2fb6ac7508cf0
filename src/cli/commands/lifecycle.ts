import { GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { applyLifecycle, lifecycleRules } from '../../aws/lifecycle.js';
import { contentTransitions, firstArchiveDay } from '../../aws/lifecycle-transitions.js';
import { ARCHIVE_NOTICE_DAYS, checkReplicasBeforeArchive } from '../../aws/replica-archive-check.js';
import type { Backend } from '../../backend/backend.js';
import { openBackend, s3Options } from '../../backend/registry.js';
import { createS3Client } from '../../backend/s3/client.js';
import { systemClock } from '../../clock.js';
import type { ResolvedConfig } from '../../config/load.js';
import { parseRepositoryUrl } from '../../config/repository-url.js';
import type { RepositoryConfig } from '../../config/schema.js';
import { UsageError } from '../../errors.js';
import { targetOf } from '../../replicate/targets.js';
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
  glacierDays: string;
  deepArchiveDays: string;
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
  const transitions = contentTransitions({
    infrequentAccess: days(flags.iaDays, '--ia-days', 0),
    glacierInstant: days(flags.glacierIrDays, '--glacier-ir-days', 0),
    glacier: days(flags.glacierDays, '--glacier-days', 0),
    deepArchive: days(flags.deepArchiveDays, '--deep-archive-days', 0),
  });
  await withRepository(global, async ({ backend, config }) => {
    const location = parseRepositoryUrl(config.repository.url);
    if (location.kind !== 's3') throw new UsageError('lifecycle rules are for repositories in S3');
    const archiveDay = firstArchiveDay(transitions);
    const warnings =
      archiveDay === undefined
        ? []
        : await replicaWarnings(global, backend, config, archiveDay, !!flags.apply);
    const hosts = [
      ...new Set([
        ...(await listSnapshots(backend)).map((ref) => ref.host),
        ...(config.host ? [config.host] : []),
      ]),
    ];
    const rules = lifecycleRules({
      prefix: location.prefix,
      hosts,
      transitions,
      abortMultipartDays: days(flags.abortDays, '--abort-days', 1),
      versioned:
        config.repository.objectLock !== undefined || (await isVersioned(config.repository, location)),
    });
    if (!global.quiet && !global.json)
      for (const line of warnings) process.stderr.write(`warning: ${line}\n`);
    if (flags.print) {
      printResult(global, { bucket: location.bucket, rules, warnings }, () => [
        JSON.stringify({ Rules: rules }, null, 2),
      ]);
      return;
    }
    const client = createS3Client(
      s3Options(config.repository, location.bucket, location.prefix, process.env),
    );
    try {
      const kept = await applyLifecycle(client, location.bucket, rules);
      printResult(global, { bucket: location.bucket, rules, otherRulesKept: kept, warnings }, () => [
        `wrote ${rules.length} lifecycle rule(s) to ${location.bucket} (hosts: ${hosts.join(', ') || 'none yet'}); kept ${kept} other rule(s)`,
        'run it again when a new host starts backing up to this repository',
      ]);
    } finally {
      client.destroy();
    }
  });
}

/**
 * Before content may be archived, the replicas must hold it (an archived object cannot be copied):
 * a replica lacking what the rule would archive within a week stops --apply; no replica, or one
 * that cannot be checked, is a warning.
 */
async function replicaWarnings(
  global: GlobalOptions,
  backend: Backend,
  config: ResolvedConfig,
  archiveDay: number,
  applying: boolean,
): Promise<string[]> {
  const replicas = config.replicas.filter(
    (replica) => replica.url.replace(/\/+$/, '') !== config.repository.url.replace(/\/+$/, ''),
  );
  if (replicas.length === 0) {
    return [
      `no replica is configured: content archived after ${archiveDay} days can then only be restored through a retrieval request (hours, and a fee per GB; see docs/STORAGE.md)`,
    ];
  }
  const checks = await checkReplicasBeforeArchive(
    backend,
    replicas.map((replica) => ({
      url: replica.url,
      open: () => openBackend(targetOf(config, replica.url).settings),
    })),
    archiveDay,
    systemClock.now(),
  );
  const warnings: string[] = [];
  for (const check of checks) {
    if (check.error !== undefined) {
      warnings.push(`could not check that the replica ${check.url} is current: ${check.error}`);
    } else if (check.atRisk && check.behind) {
      const message = `the replica ${check.url} lacks ${check.behind.objects} object(s), the oldest written ${check.behind.oldest.toISOString()}: the rule would archive it within ${ARCHIVE_NOTICE_DAYS} days, and an archived object can no longer be copied`;
      if (applying)
        throw new UsageError(message, { hint: 'run "twinvault replicate" first, then apply the rule' });
      warnings.push(message);
    }
  }
  if (!global.quiet && !global.json && warnings.length === 0) {
    process.stderr.write(
      `replicas checked: none lacks an object the rule would archive within ${ARCHIVE_NOTICE_DAYS} days\n`,
    );
  }
  return warnings;
}
