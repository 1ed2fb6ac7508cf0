import { RESTORE_TIERS, RETRIEVAL_HOURS } from '../backend/archive.js';
import { formatBytes } from '../util/format-bytes.js';
import type { ArchivedObject } from './find-archived.js';
import { estimateRetrieval, formatUsd } from './retrieval-prices.js';
import type { RetrievalStatus } from './retrieve.js';

const SHOWN_KEYS = 3;

/** "12 object(s), 3.40 GiB (DEEP_ARCHIVE: 10, GLACIER: 2): "a", "b", "c", …" */
export function describeArchived(objects: readonly ArchivedObject[]): string {
  const byClass = new Map<string, number>();
  for (const object of objects) byClass.set(object.storageClass, (byClass.get(object.storageClass) ?? 0) + 1);
  const classes = [...byClass].map(([name, count]) => `${name}: ${count}`).join(', ');
  const bytes = objects.reduce((sum, o) => sum + o.size, 0);
  const keys = objects.slice(0, SHOWN_KEYS).map((o) => JSON.stringify(o.key));
  if (objects.length > SHOWN_KEYS) keys.push('…');
  return `${objects.length} object(s), ${formatBytes(bytes)} (${classes}): ${keys.join(', ')}`;
}

/** The slowest usual retrieval of these objects at a tier, in hours (RETRIEVAL_HOURS). */
export function usualHours(objects: readonly ArchivedObject[], tier: (typeof RESTORE_TIERS)[number]): number {
  return Math.max(0, ...objects.map((o) => RETRIEVAL_HOURS[o.storageClass]?.[tier] ?? 12));
}

function readyWithin(hours: number): string {
  return hours < 1 ? `${Math.round(hours * 60)} minutes` : `${hours} hours`;
}

/**
 * How to get archived objects back, with the approximate cost and time of each tier S3 offers for
 * all of them: what a command says when it was not allowed to ask (no --request-archived).
 */
export function requestHint(objects: readonly ArchivedObject[], days = 7): string {
  const tiers = [...RESTORE_TIERS].flatMap((tier) => {
    const estimate = estimateRetrieval(objects, tier, days);
    if (estimate.unavailableFor.length > 0) return [];
    const flag = tier === 'Bulk' ? 'the default' : `--tier ${tier}`;
    return [
      `${tier} ≈ ${formatUsd(estimate.usd)}, within ${readyWithin(usualHours(objects, tier))} (${flag})`,
    ];
  });
  return `ask S3 for them with --request-archived: ${tiers.join('; ')}; --days N keeps the copies N days (${days} by default; estimates from AWS list prices, docs/STORAGE.md); then run the same command again, or add --wait`;
}

/** What was asked for and when to come back: the message of a run that stops with restores under way. */
export function pendingMessage(status: RetrievalStatus, tier: (typeof RESTORE_TIERS)[number]): string {
  const asked =
    status.requested > 0
      ? `asked S3 to restore ${status.requested} archived object(s) (${tier} tier, estimated ${formatUsd(status.estimate?.usd ?? 0)}); `
      : '';
  return `${asked}archived objects being restored, usually within ${readyWithin(usualHours(status.pending, tier))}: ${describeArchived(status.pending)}`;
}
