import { applyNativeReplication, planNativeReplication } from '../../aws/native-replication.js';
import { s3Options } from '../../backend/registry.js';
import { createS3Client } from '../../backend/s3/client.js';
import { parseRepositoryUrl } from '../../config/repository-url.js';
import { UsageError } from '../../errors.js';
import { targetOf } from '../../replicate/targets.js';
import { loadCliConfig } from '../context.js';
import { type GlobalOptions, printResult } from '../output.js';

/** `twinvault replication native --to s3://bucket`: S3's own replication for the repository. */
export async function run(
  global: GlobalOptions,
  flags: { to: string; print?: boolean; rtc?: boolean; replicateDeletes?: boolean; roleName?: string },
): Promise<void> {
  const config = await loadCliConfig(global);
  const source = s3(config.repository.url, 'the repository');
  const target = targetOf(config, flags.to);
  const destination = s3(target.url, '--to');
  const plan = planNativeReplication({
    source,
    destination,
    ...(flags.roleName ? { roleName: flags.roleName } : {}),
    replicateDeletes: flags.replicateDeletes ?? false,
    replicationTimeControl: flags.rtc ?? false,
  });
  const steps = [
    `turn on versioning on ${plan.sourceBucket} and ${plan.destinationBucket} (required by S3 replication; every overwrite and delete then keeps the old version)`,
    `create the IAM role ${plan.roleName} (if missing), which S3 assumes, with the policy below`,
    `write the replication configuration of ${plan.sourceBucket}`,
    'objects already in the bucket are not copied by S3: run "twinvault replicate --to" once for them',
  ];
  if (flags.print) {
    printResult(global, { steps, rolePolicy: plan.rolePolicy, replication: plan.replication }, () => [
      ...steps.map((step, i) => `${i + 1}. ${step}`),
      '',
      `role policy:\n${JSON.stringify(plan.rolePolicy, null, 2)}`,
      `replication configuration:\n${JSON.stringify(plan.replication, null, 2)}`,
    ]);
    return;
  }
  const { IAMClient } = await import('@aws-sdk/client-iam');
  const clients = {
    source: createS3Client(s3Options(config.repository, source.bucket, source.prefix, process.env)),
    destination: createS3Client(
      s3Options(target.settings, destination.bucket, destination.prefix, process.env),
    ),
    iam: new IAMClient(config.repository.region ? { region: config.repository.region } : {}),
  };
  try {
    const applied = await applyNativeReplication(plan, clients);
    printResult(global, { ...applied, replication: { ...plan.replication, Role: applied.roleArn } }, () => [
      `S3 now replicates ${plan.sourceBucket}${source.prefix ? `/${source.prefix}` : ''} to ${plan.destinationBucket} (role ${applied.roleArn}${applied.roleCreated ? ', created' : ''})`,
      steps[3]!,
    ]);
  } finally {
    clients.source.destroy();
    clients.destination.destroy();
    clients.iam.destroy();
  }
}

function s3(url: string, what: string): { bucket: string; prefix: string } {
  const location = parseRepositoryUrl(url, what);
  if (location.kind !== 's3')
    throw new UsageError(`${what} must be an s3:// URL for S3 replication, not ${url}`);
  return location;
}
