import type { RepositoryConfig } from '../config/schema.js';
import { DELETE_POLICIES, type DeletePolicy } from '../config/schema.js';
import { parseDuration } from '../config/units.js';
import { ConfigError } from '../errors.js';
import type { DeleteRule } from '../replicate/events.js';
import { EMF_NAMESPACE } from './emf-names.js';

/** The replicator Lambda's settings, from its environment (set by the CloudFormation template). */
export interface LambdaSettings {
  source: RepositoryConfig;
  destination: RepositoryConfig;
  scope: { bucket: string; prefix: string };
  deletes: DeleteRule;
  concurrency: number;
  /** Stop a scheduled pass when less than this much time (ms) is left. */
  reserveMs: number;
  /** The CloudWatch namespace of the EMF metrics, and their Replica dimension (no secrets in it). */
  metrics: { namespace: string; replica: string };
}

export function lambdaSettings(env: NodeJS.ProcessEnv): LambdaSettings {
  const required = (name: string) => {
    const value = env[name]?.trim();
    if (!value) throw new ConfigError(`the replicator needs the environment variable ${name}`);
    return value;
  };
  const sourceBucket = required('SOURCE_BUCKET');
  const destinationBucket = required('DESTINATION_BUCKET');
  const prefix = (name: string) => (env[name] ?? '').replace(/^\/+|\/+$/g, '');
  const sourcePrefix = prefix('SOURCE_PREFIX');
  const destinationPrefix =
    env.DESTINATION_PREFIX === undefined ? sourcePrefix : prefix('DESTINATION_PREFIX');
  const url = (bucket: string, path: string) => `s3://${bucket}${path ? `/${path}` : ''}`;
  const policy = (env.DELETE_POLICY ?? 'keep') as DeletePolicy;
  if (!DELETE_POLICIES.includes(policy)) {
    throw new ConfigError(`DELETE_POLICY is ${JSON.stringify(policy)}; one of ${DELETE_POLICIES.join(', ')}`);
  }
  let afterMs: number | undefined;
  if (policy === 'delay') {
    afterMs = parseDuration(env.DELETE_AFTER ?? '');
    if (afterMs === undefined)
      throw new ConfigError('DELETE_POLICY "delay" needs DELETE_AFTER, a duration such as "30d"');
  }
  const region = env.AWS_REGION;
  const destinationRegion = env.DESTINATION_REGION || region;
  const destinationUrl = url(destinationBucket, destinationPrefix);
  return {
    source: { url: url(sourceBucket, sourcePrefix), ...(region ? { region } : {}) },
    destination: {
      url: destinationUrl,
      ...(destinationRegion ? { region: destinationRegion } : {}),
    },
    scope: { bucket: sourceBucket, prefix: sourcePrefix },
    deletes: { policy, ...(afterMs === undefined ? {} : { afterMs }) },
    concurrency: Number(env.CONCURRENCY ?? 32) || 32,
    reserveMs: Number(env.TIME_RESERVE_MS ?? 30_000) || 30_000,
    metrics: {
      namespace: env.METRICS_NAMESPACE?.trim() || EMF_NAMESPACE,
      // The template sets it to what its alarm's dimension says, so the two always match.
      replica: env.METRICS_REPLICA?.trim() || destinationUrl,
    },
  };
}
