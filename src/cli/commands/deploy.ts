import { enableEventBridge } from '../../aws/bucket-events.js';
import { deleteStack, deployStack } from '../../aws/deploy.js';
import { lambdaPackage } from '../../aws/lambda-package.js';
import { replicatorTemplate } from '../../aws/replicator-template.js';
import { bodyFromBuffer } from '../../backend/body.js';
import { openBackend, s3Options } from '../../backend/registry.js';
import { createS3Client } from '../../backend/s3/client.js';
import { parseRepositoryUrl } from '../../config/repository-url.js';
import type { RepositoryConfig } from '../../config/schema.js';
import { parseDuration } from '../../config/units.js';
import { UsageError } from '../../errors.js';
import { targetOf } from '../../replicate/targets.js';
import { DEPLOY_PREFIX } from '../../repository/layout.js';
import { loadCliConfig } from '../context.js';
import { type GlobalOptions, printResult } from '../output.js';

export interface DeployFlags {
  print?: boolean;
  delete?: boolean;
  stack: string;
  replica?: string;
  schedule: string;
  alarmEmail?: string;
  logRetentionDays: string;
  lagAlarm: string;
}

/**
 * `twinvault deploy`: the serverless replicator on AWS. --print writes the CloudFormation
 * template; otherwise the Lambda's code goes to the replica's bucket (under .twinvault/deploy/),
 * the stack is created or updated, and the repository's bucket is set to send its events to
 * EventBridge. --delete removes the stack.
 */
export async function run(global: GlobalOptions, flags: DeployFlags): Promise<void> {
  const lagAlarmMs = parseDuration(flags.lagAlarm);
  if (lagAlarmMs === undefined || lagAlarmMs < 60_000) {
    throw new UsageError(
      `--lag-alarm ${JSON.stringify(flags.lagAlarm)} is not a duration of at least 1m (e.g. "1h")`,
    );
  }
  if (flags.print) {
    process.stdout.write(`${JSON.stringify(replicatorTemplate(), null, 2)}\n`);
    return;
  }
  const config = await loadCliConfig(global);
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const cloudFormation = new CloudFormationClient(clientSettings(config.repository));
  try {
    if (flags.delete) {
      const deleted = await deleteStack(cloudFormation, flags.stack);
      printResult(global, { stack: flags.stack, deleted }, () => [
        deleted ? `deleted the stack ${flags.stack}` : `there is no stack ${flags.stack}`,
        'the bucket still sends its events to EventBridge (other rules may use them); the code zip stays under .twinvault/deploy/ in the replica',
      ]);
      return;
    }
    const replicaUrl = flags.replica ?? config.replicas[0]?.url;
    if (!replicaUrl) {
      throw new UsageError(
        'deploy needs a replica: --replica s3://bucket/prefix, or "replicas" in the config',
      );
    }
    const target = targetOf(config, replicaUrl);
    const source = s3Location(config.repository.url, 'the repository');
    const replica = s3Location(replicaUrl, 'the replica');
    const code = await lambdaPackage();
    const destination = await openBackend(target.settings);
    try {
      await destination.put(`${DEPLOY_PREFIX}${code.name}`, bodyFromBuffer(code.zip), {
        contentType: 'application/zip',
      });
    } finally {
      await destination.close();
    }
    const result = await deployStack({
      client: cloudFormation,
      stackName: flags.stack,
      parameters: {
        SourceBucket: source.bucket,
        SourcePrefix: source.prefix,
        DestinationBucket: replica.bucket,
        DestinationPrefix: replica.prefix,
        DeletePolicy: target.deletes.policy,
        DeleteAfter: `${Math.round((target.deletes.afterMs ?? 30 * 86_400_000) / 1000)}s`,
        Schedule: flags.schedule,
        AlarmEmail: flags.alarmEmail ?? '',
        LogRetentionDays: flags.logRetentionDays,
        LagAlarmSeconds: String(Math.round(lagAlarmMs / 1000)),
        CodeBucket: replica.bucket,
        CodeKey: `${replica.prefix ? `${replica.prefix}/` : ''}${DEPLOY_PREFIX}${code.name}`,
      },
    });
    const s3 = createS3Client(s3Options(config.repository, source.bucket, source.prefix, process.env));
    let eventsTurnedOn: boolean;
    try {
      eventsTurnedOn = await enableEventBridge(s3, source.bucket);
    } finally {
      s3.destroy();
    }
    printResult(global, { ...result, eventBridgeTurnedOn: eventsTurnedOn }, () => [
      `stack ${result.stackName}: ${result.action} (${result.status})`,
      ...Object.entries(result.outputs).map(([key, value]) => `  ${key}: ${value}`),
      eventsTurnedOn
        ? `  ${source.bucket} now sends its events to EventBridge`
        : `  ${source.bucket} already sent its events to EventBridge`,
      ...(flags.alarmEmail
        ? [`  confirm the subscription e-mail sent to ${flags.alarmEmail} to receive alarms`]
        : []),
    ]);
  } finally {
    cloudFormation.destroy();
  }
}

function s3Location(url: string, what: string): { bucket: string; prefix: string } {
  const location = parseRepositoryUrl(url, what);
  if (location.kind !== 's3')
    throw new UsageError(`${what} must be in S3 to deploy the replicator, not ${url}`);
  return location;
}

/** Region and credentials of the repository's settings, for the other AWS clients. */
function clientSettings(settings: RepositoryConfig) {
  const { region, accessKeyId, secretAccessKey, sessionToken } = settings;
  return {
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  };
}
