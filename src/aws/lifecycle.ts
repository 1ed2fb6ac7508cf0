import {
  GetBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Transition } from './lifecycle-transitions.js';

export interface LifecycleOptions {
  /** The repository's key prefix ("" for the whole bucket). */
  prefix: string;
  /** Hosts with content in the repository: one rule each (`<prefix>/<host>/`). */
  hosts: string[];
  /** Where content moves with age (contentTransitions): applied to content only, never `.twinvault/`. */
  transitions: Transition[];
  /** Days before incomplete multipart uploads are aborted. */
  abortMultipartDays: number;
  /**
   * The bucket keeps versions (Object Lock turns versioning on): what prune deletes stays as an
   * old version until a rule expires it, once its retention allows.
   */
  versioned?: boolean;
}

const RULE_PREFIX = 'twinvault-';

/**
 * S3 lifecycle rules for a repository: content objects move to cheaper storage classes as they
 * age (archive classes included: the only way content gets there), and abandoned multipart
 * uploads are cleaned up; `.twinvault/` (config, manifests, locks) stays in Standard, read often
 * and small, and never archived. Lifecycle filters cannot exclude a prefix, so content gets one
 * rule per host folder; a new host needs `lifecycle --apply` again.
 */
export function lifecycleRules(options: LifecycleOptions): LifecycleRule[] {
  const root = options.prefix === '' ? '' : `${options.prefix}/`;
  const transitions = options.transitions;
  const rules: LifecycleRule[] = [
    {
      ID: `${RULE_PREFIX}abort-incomplete-uploads`,
      Status: 'Enabled',
      Filter: { Prefix: root },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: options.abortMultipartDays },
    },
  ];
  if (options.versioned) {
    rules.push({
      ID: `${RULE_PREFIX}deleted-versions`,
      Status: 'Enabled',
      Filter: { Prefix: root },
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      Expiration: { ExpiredObjectDeleteMarker: true },
    });
  }
  if (transitions.length > 0) {
    for (const host of [...new Set(options.hosts)].sort()) {
      rules.push({
        ID: `${RULE_PREFIX}content-${host}`.slice(0, 255),
        Status: 'Enabled',
        Filter: { Prefix: `${root}${host}/` },
        Transitions: transitions,
      });
    }
  }
  return rules;
}

/** Writes the rules, keeping the bucket's other rules (those not named twinvault-*). */
export async function applyLifecycle(
  client: S3Client,
  bucket: string,
  rules: LifecycleRule[],
): Promise<number> {
  let existing: LifecycleRule[] = [];
  try {
    existing =
      (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchLifecycleConfiguration') throw err;
  }
  const others = existing.filter((rule) => !rule.ID?.startsWith(RULE_PREFIX));
  await client.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: [...others, ...rules] },
    }),
  );
  return others.length;
}
