import { basename } from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import type { RetentionConfig } from '../config/schema.js';
import { parseKeepWithin } from './keep-within.js';
import type { PolicyChoice, RetentionPolicy } from './policy.js';

export function policyFromConfig(retention: RetentionConfig): RetentionPolicy {
  const policy: RetentionPolicy = {};
  if (retention.keepLast) policy.last = retention.keepLast;
  if (retention.keepHourly) policy.hourly = retention.keepHourly;
  if (retention.keepDaily) policy.daily = retention.keepDaily;
  if (retention.keepWeekly) policy.weekly = retention.keepWeekly;
  if (retention.keepMonthly) policy.monthly = retention.keepMonthly;
  if (retention.keepYearly) policy.yearly = retention.keepYearly;
  if (retention.keepWithin) policy.within = parseKeepWithin(retention.keepWithin);
  if (retention.keepTags?.length) policy.tags = retention.keepTags;
  return policy;
}

/**
 * The config's policies for a repository's groups of snapshots: a source's own "retention" for
 * the snapshots of that source, else the top-level one; snapshots of no configured policy are kept.
 */
export function configuredPolicies(config: ResolvedConfig): PolicyChoice | undefined {
  const bySource = new Map<string, RetentionPolicy>();
  for (const source of config.sources) {
    if (source.retention)
      bySource.set(source.name ?? basename(source.path), policyFromConfig(source.retention));
  }
  const fallback = config.retention ? policyFromConfig(config.retention) : undefined;
  if (bySource.size === 0 && !fallback) return undefined;
  return (group) => (group.source !== undefined ? bySource.get(group.source) : undefined) ?? fallback;
}
