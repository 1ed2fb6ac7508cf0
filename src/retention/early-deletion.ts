import { CLASS_RULES, earlyDeletionCost, type PriceTable } from '../repository/class-billing.js';

/** What deleting objects before their class's minimum duration costs anyway (an estimate). */
export interface EarlyDeletionCharge {
  objects: number;
  bytes: number;
  /** USD: at least this much, as the minimum may run from a later lifecycle transition. */
  usd: number;
  byClass: Record<string, { objects: number; bytes: number; usd: number; minimumDays: number }>;
}

/**
 * The early-deletion charge of the objects prune is about to delete: each one in a class with a
 * minimum duration (30 days Standard-IA and One Zone-IA, 90 Glacier IR and Glacier, 180 Deep
 * Archive) and younger than it is billed for the rest. Undefined when nothing is.
 */
export function earlyDeletionCharge(
  objects: Iterable<{ size: number; storageClass?: string; lastModified: Date }>,
  now: Date,
  prices: PriceTable,
): EarlyDeletionCharge | undefined {
  const charge: EarlyDeletionCharge = { objects: 0, bytes: 0, usd: 0, byClass: {} };
  for (const object of objects) {
    const storageClass = object.storageClass ?? 'STANDARD';
    const minimumDays = CLASS_RULES[storageClass]?.minimumDays;
    if (minimumDays === undefined) continue;
    const age = now.getTime() - object.lastModified.getTime();
    const { remainingDays, usd } = earlyDeletionCost(object.size, storageClass, age, prices);
    if (remainingDays <= 0) continue;
    const slot = charge.byClass[storageClass] ?? { objects: 0, bytes: 0, usd: 0, minimumDays };
    charge.byClass[storageClass] = slot;
    slot.objects++;
    slot.bytes += object.size;
    slot.usd += usd;
    charge.objects++;
    charge.bytes += object.size;
    charge.usd += usd;
  }
  return charge.objects === 0 ? undefined : charge;
}
