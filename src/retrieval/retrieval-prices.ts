import type { RestoreTier } from '../backend/archive.js';

/**
 * What S3 charges to bring archived objects back, in USD: per GB retrieved and per 1,000 restore
 * requests, by class and tier. AWS list prices for us-east-1 (2025); other regions differ by a
 * few tens of percent, so every figure built on this table is called an estimate. The restored
 * copy is billed besides, as Standard storage for the days it is kept.
 */
export const RETRIEVAL_PRICES: Record<
  string,
  Partial<Record<RestoreTier, { perGb: number; perThousand: number }>>
> = {
  GLACIER: {
    Expedited: { perGb: 0.03, perThousand: 10 },
    Standard: { perGb: 0.01, perThousand: 0.05 },
    Bulk: { perGb: 0, perThousand: 0 },
  },
  DEEP_ARCHIVE: {
    Standard: { perGb: 0.02, perThousand: 0.1 },
    Bulk: { perGb: 0.0025, perThousand: 0.025 },
  },
};

/** Standard storage, per GB-month: what the temporary restored copy costs while it is kept. */
const RESTORED_COPY_PER_GB_MONTH = 0.023;
const GB = 1024 ** 3;

export interface RetrievalEstimate {
  tier: RestoreTier;
  objects: number;
  bytes: number;
  /** Retrieval (per GB and per request) plus the restored copy for the days asked, in USD. */
  usd: number;
  /** Classes the tier is not offered for (Expedited for Deep Archive): the request would fail. */
  unavailableFor: string[];
}

/** The approximate cost of restoring these objects at one tier, keeping the copies `days` days. */
export function estimateRetrieval(
  objects: ReadonlyArray<{ size: number; storageClass: string }>,
  tier: RestoreTier,
  days: number,
): RetrievalEstimate {
  let usd = 0;
  let bytes = 0;
  const unavailable = new Set<string>();
  for (const object of objects) {
    const price = RETRIEVAL_PRICES[object.storageClass]?.[tier];
    if (RETRIEVAL_PRICES[object.storageClass] && price === undefined) unavailable.add(object.storageClass);
    bytes += object.size;
    usd += (object.size / GB) * ((price?.perGb ?? 0) + (RESTORED_COPY_PER_GB_MONTH * days) / 30);
    usd += (price?.perThousand ?? 0) / 1000;
  }
  return { tier, objects: objects.length, bytes, usd, unavailableFor: [...unavailable].sort() };
}

/** "$0.12", "< $0.01": an estimate, never more precise than a cent. */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) return '< $0.01';
  return `$${usd.toFixed(2)}`;
}
