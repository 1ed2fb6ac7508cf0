import type { StorageClass } from '../config/schema.js';

/**
 * AWS list prices in USD per GiB-month (us-east-1, first 50 TB, late 2026): estimates only, for
 * `twinvault stats` and prune's early-deletion warning; the config's "prices" override them.
 */
export const DEFAULT_PRICES: Record<StorageClass, number> = {
  STANDARD: 0.023,
  STANDARD_IA: 0.0125,
  ONEZONE_IA: 0.01,
  INTELLIGENT_TIERING: 0.023,
  GLACIER_IR: 0.004,
  GLACIER: 0.0036,
  DEEP_ARCHIVE: 0.00099,
  REDUCED_REDUNDANCY: 0.023,
  EXPRESS_ONEZONE: 0.11,
};

const KIB = 1024;
const GIB = 1024 ** 3;
const DAY_MS = 86_400_000;

interface ClassRules {
  /** A smaller object is billed as this many bytes. */
  minimumBytes?: number;
  /** Index kept per archived object: bytes billed at the class's own rate, and at STANDARD's. */
  overhead?: { classBytes: number; standardBytes: number };
  /** An object deleted (or moved) sooner is billed for the rest of these days all the same. */
  minimumDays?: number;
}

/**
 * How AWS bills the cold classes beyond bytes × price (S3 pricing page): Standard-IA, One Zone-IA
 * and Glacier Instant Retrieval bill at least 128 KB per object; Glacier Flexible Retrieval and
 * Deep Archive add 40 KB per object (32 KB of index at the archive rate, 8 KB of name and
 * metadata at STANDARD's); and each bills a minimum storage duration.
 */
export const CLASS_RULES: Readonly<Record<string, ClassRules>> = {
  STANDARD_IA: { minimumBytes: 128 * KIB, minimumDays: 30 },
  ONEZONE_IA: { minimumBytes: 128 * KIB, minimumDays: 30 },
  GLACIER_IR: { minimumBytes: 128 * KIB, minimumDays: 90 },
  GLACIER: { overhead: { classBytes: 32 * KIB, standardBytes: 8 * KIB }, minimumDays: 90 },
  DEEP_ARCHIVE: { overhead: { classBytes: 32 * KIB, standardBytes: 8 * KIB }, minimumDays: 180 },
};

export type PriceTable = Readonly<Record<string, number>>;

/** The default prices with the config's overrides. */
export function priceTable(overrides: Partial<Record<string, number>> = {}): PriceTable {
  const table: Record<string, number> = { ...DEFAULT_PRICES };
  for (const [name, price] of Object.entries(overrides)) if (price !== undefined) table[name] = price;
  return table;
}

function priceOf(table: PriceTable, storageClass: string): number {
  return table[storageClass] ?? table.STANDARD ?? DEFAULT_PRICES.STANDARD;
}

/** The bytes an object is billed as in its own class: its size, raised to a minimum, plus index. */
export function billedBytes(size: number, storageClass: string): number {
  const rules = CLASS_RULES[storageClass] ?? {};
  return Math.max(size, rules.minimumBytes ?? 0) + (rules.overhead?.classBytes ?? 0);
}

/** What one object costs a month, in USD, as AWS bills it. */
export function monthlyCost(size: number, storageClass: string, table: PriceTable): number {
  const standardBytes = CLASS_RULES[storageClass]?.overhead?.standardBytes ?? 0;
  return (
    (billedBytes(size, storageClass) / GIB) * priceOf(table, storageClass) +
    (standardBytes / GIB) * priceOf(table, 'STANDARD')
  );
}

/**
 * What deleting an object now costs beyond what was already paid: the rest of its class's
 * minimum duration, in USD (0 past it, or in a class without one). `age` counts from the upload:
 * for an object a lifecycle rule moved later, the minimum runs from the move, which S3 does not
 * report, so the charge can be higher than this.
 */
export function earlyDeletionCost(
  size: number,
  storageClass: string,
  ageMs: number,
  table: PriceTable,
): { remainingDays: number; usd: number } {
  const minimumDays = CLASS_RULES[storageClass]?.minimumDays ?? 0;
  const remainingDays = Math.max(0, minimumDays - ageMs / DAY_MS);
  const usd = (billedBytes(size, storageClass) / GIB) * priceOf(table, storageClass) * (remainingDays / 30);
  return { remainingDays, usd };
}
