import { CreateRoleCommand, GetRoleCommand, type IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  type ReplicationConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { UsageError } from '../errors.js';

/**
 * S3's own replication (Same- or Cross-Region Replication) for a repository, for AWS users who
 * prefer it to twinvault's replicator: versioning on both buckets, a role S3 assumes, and a
 * replication rule for the repository's prefix. Delete markers are not replicated (a replica that
 * keeps everything), unless asked; Replication Time Control (15 minutes, charged) on request.
 */
export interface NativePlan {
  sourceBucket: string;
  destinationBucket: string;
  roleName: string;
  trustPolicy: object;
  rolePolicy: object;
  replication: ReplicationConfiguration & { Role: string };
}

export interface NativeOptions {
  source: { bucket: string; prefix: string };
  destination: { bucket: string; prefix: string };
  roleName?: string;
  replicateDeletes?: boolean;
  replicationTimeControl?: boolean;
}

export function planNativeReplication(options: NativeOptions): NativePlan {
  const { source, destination } = options;
  if (source.prefix !== destination.prefix) {
    throw new UsageError(
      `S3 replication keeps keys as they are: the replica must use the repository's prefix ("${source.prefix}"), not "${destination.prefix}"`,
      {
        hint: `use --to s3://${destination.bucket}${source.prefix ? `/${source.prefix}` : ''}, or twinvault's own replicator`,
      },
    );
  }
  if (source.bucket === destination.bucket) throw new UsageError('S3 replication needs another bucket');
  const roleName = options.roleName ?? `twinvault-replication-${source.bucket}`.slice(0, 64);
  const root = source.prefix === '' ? '' : `${source.prefix}/`;
  const timeControl = options.replicationTimeControl
    ? {
        ReplicationTime: { Status: 'Enabled' as const, Time: { Minutes: 15 } },
        Metrics: { Status: 'Enabled' as const, EventThreshold: { Minutes: 15 } },
      }
    : {};
  return {
    sourceBucket: source.bucket,
    destinationBucket: destination.bucket,
    roleName,
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    },
    rolePolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          Resource: `arn:aws:s3:::${source.bucket}`,
        },
        {
          Effect: 'Allow',
          Action: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
          ],
          Resource: `arn:aws:s3:::${source.bucket}/${root}*`,
        },
        {
          Effect: 'Allow',
          Action: [
            's3:ReplicateObject',
            's3:ReplicateTags',
            ...(options.replicateDeletes ? ['s3:ReplicateDelete'] : []),
          ],
          Resource: `arn:aws:s3:::${destination.bucket}/${root}*`,
        },
      ],
    },
    replication: {
      // The account's id is known once the role exists; apply fills in the role's real ARN.
      Role: `arn:aws:iam::ACCOUNT_ID:role/${roleName}`,
      Rules: [
        {
          ID: 'twinvault',
          Priority: 1,
          Status: 'Enabled',
          Filter: { Prefix: root },
          DeleteMarkerReplication: { Status: options.replicateDeletes ? 'Enabled' : 'Disabled' },
          Destination: { Bucket: `arn:aws:s3:::${destination.bucket}`, ...timeControl },
        },
      ],
    },
  };
}

/** Carries the plan out: versioning, the role (created or its policy replaced), the rule. */
export async function applyNativeReplication(
  plan: NativePlan,
  clients: { source: S3Client; destination: S3Client; iam: IAMClient },
): Promise<{ roleCreated: boolean; roleArn: string }> {
  for (const [client, bucket] of [
    [clients.source, plan.sourceBucket],
    [clients.destination, plan.destinationBucket],
  ] as const) {
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  }
  let roleCreated = false;
  let roleArn: string | undefined;
  try {
    roleArn = (await clients.iam.send(new GetRoleCommand({ RoleName: plan.roleName }))).Role?.Arn;
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchEntityException') throw err;
    const created = await clients.iam.send(
      new CreateRoleCommand({
        RoleName: plan.roleName,
        AssumeRolePolicyDocument: JSON.stringify(plan.trustPolicy),
        Description: 'S3 replication of a twinvault repository',
      }),
    );
    roleArn = created.Role?.Arn;
    roleCreated = true;
  }
  await clients.iam.send(
    new PutRolePolicyCommand({
      RoleName: plan.roleName,
      PolicyName: 'replicate',
      PolicyDocument: JSON.stringify(plan.rolePolicy),
    }),
  );
  await clients.source.send(
    new PutBucketReplicationCommand({
      Bucket: plan.sourceBucket,
      ReplicationConfiguration: { ...plan.replication, Role: roleArn ?? plan.replication.Role },
    }),
  );
  return { roleCreated, roleArn: roleArn ?? plan.replication.Role };
}
