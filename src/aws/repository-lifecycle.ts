import { GetBucketVersioningCommand, type LifecycleRule } from '@aws-sdk/client-s3';
import type { Backend } from '../backend/backend.js';
import { s3Options } from '../backend/registry.js';
import { createS3Client } from '../backend/s3/client.js';
import type { ResolvedConfig } from '../config/load.js';
import { parseRepositoryUrl } from '../config/repository-url.js';
import type { RepositoryConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { listSnapshots } from '../repository/snapshots.js';
import { applyLifecycle, lifecycleRules } from './lifecycle.js';
import type { Transition } from './lifecycle-transitions.js';

/** Where a repository in S3 lives: lifecycle rules are the bucket's. */
export interface BucketLocation {
  bucket: string;
  prefix: string;
}

/** The configured repository's bucket and prefix; a usage error for a repository elsewhere. */
export function lifecycleLocation(config: ResolvedConfig): BucketLocation {
  const location = parseRepositoryUrl(config.repository.url);
  if (location.kind !== 's3') throw new UsageError('lifecycle rules are for repositories in S3');
  return { bucket: location.bucket, prefix: location.prefix };
}

export interface RepositoryLifecyclePlan {
  /** Hosts with snapshots in the repository, and this machine's configured host: a rule each. */
  hosts: string[];
  rules: LifecycleRule[];
}

/**
 * The rules `lifecycle --print` shows and `--apply` writes: one content rule per host the
 * repository knows, and the rule for old versions when the bucket keeps them.
 */
export async function planRepositoryLifecycle(options: {
  backend: Backend;
  config: ResolvedConfig;
  location: BucketLocation;
  transitions: Transition[];
  abortMultipartDays: number;
  env?: NodeJS.ProcessEnv;
}): Promise<RepositoryLifecyclePlan> {
  const { config, location } = options;
  const hosts = [
    ...new Set([
      ...(await listSnapshots(options.backend)).map((ref) => ref.host),
      ...(config.host ? [config.host] : []),
    ]),
  ];
  const rules = lifecycleRules({
    prefix: location.prefix,
    hosts,
    transitions: options.transitions,
    abortMultipartDays: options.abortMultipartDays,
    versioned:
      config.repository.objectLock !== undefined ||
      (await isVersioned(config.repository, location, options.env ?? process.env)),
  });
  return { hosts, rules };
}

/** Writes the plan's rules to the bucket, keeping its other rules; returns how many it kept. */
export async function applyRepositoryLifecycle(
  config: ResolvedConfig,
  location: BucketLocation,
  rules: LifecycleRule[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const client = createS3Client(s3Options(config.repository, location.bucket, location.prefix, env));
  try {
    return await applyLifecycle(client, location.bucket, rules);
  } finally {
    client.destroy();
  }
}

/** A versioned bucket (Object Lock, S3 replication) keeps what prune deletes as old versions. */
async function isVersioned(
  settings: RepositoryConfig,
  location: BucketLocation,
  env: NodeJS.ProcessEnv,
): Promise<boolean> {
  const client = createS3Client(s3Options(settings, location.bucket, location.prefix, env));
  try {
    const { Status } = await client.send(new GetBucketVersioningCommand({ Bucket: location.bucket }));
    return Status === 'Enabled' || Status === 'Suspended';
  } finally {
    client.destroy();
  }
}
