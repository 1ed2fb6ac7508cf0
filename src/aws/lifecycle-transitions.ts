import type { TransitionStorageClass } from '@aws-sdk/client-s3';
import { UsageError } from '../errors.js';

/** Days after upload at which content moves to each class; 0 means never. */
export interface TransitionDays {
  infrequentAccess: number;
  glacierInstant: number;
  glacier: number;
  deepArchive: number;
}

export interface Transition {
  Days: number;
  StorageClass: TransitionStorageClass;
}

/**
 * The earliest day content may move to an archive class. An object archived in the primary can
 * no longer be copied (S3 refuses CopyObject and GetObject until it is restored), so every
 * replica must have copied it by then. Thirty days is weeks more than any replica lags while it
 * works (the agent copies each snapshot at once; the replication-lag alert fires after 2 hours by
 * default), and leaves time to mend one that stopped. `lifecycle --apply` also checks the
 * replicas as they are now (replica-archive-check.ts).
 */
export const ARCHIVE_MIN_DAYS = 30;

/** How long S3 bills an object in each class at least, which the next transition should wait out. */
const MINIMUM_DAYS: Record<string, number> = { STANDARD_IA: 30, GLACIER_IR: 90, GLACIER: 90 };

const FLAGS: Record<keyof TransitionDays, string> = {
  infrequentAccess: '--ia-days',
  glacierInstant: '--glacier-ir-days',
  glacier: '--glacier-days',
  deepArchive: '--deep-archive-days',
};
const CLASSES: Record<keyof TransitionDays, TransitionStorageClass> = {
  infrequentAccess: 'STANDARD_IA',
  glacierInstant: 'GLACIER_IR',
  glacier: 'GLACIER',
  deepArchive: 'DEEP_ARCHIVE',
};

/**
 * The transitions of a content rule, in the order S3 requires (colder classes later), refusing
 * days S3 would refuse or that would pay a minimum-duration charge for nothing: Standard-IA after
 * 30 days at the earliest, archive classes after ARCHIVE_MIN_DAYS, and each class kept at least
 * as long as it is billed before the next one.
 */
export function contentTransitions(days: TransitionDays): Transition[] {
  if (days.infrequentAccess > 0 && days.infrequentAccess < 30)
    throw new UsageError('S3 moves objects to Standard-IA after 30 days at the earliest (--ia-days)');
  for (const name of ['glacier', 'deepArchive'] as const) {
    if (days[name] > 0 && days[name] < ARCHIVE_MIN_DAYS) {
      throw new UsageError(
        `${FLAGS[name]} ${days[name]} is too soon: content moves to an archive class after ${ARCHIVE_MIN_DAYS} days at the earliest`,
        {
          hint: 'an archived object cannot be copied any more, so every replica must have it by then (docs/STORAGE.md, "Cold storage")',
        },
      );
    }
  }
  const chosen = (Object.keys(CLASSES) as Array<keyof TransitionDays>).filter((name) => days[name] > 0);
  for (const [index, name] of chosen.entries()) {
    const previous = chosen[index - 1];
    if (previous === undefined) continue;
    const wait = MINIMUM_DAYS[CLASSES[previous]] ?? 0;
    if (days[name] < days[previous] + wait) {
      throw new UsageError(
        `${FLAGS[name]} must be at least ${wait} days after ${FLAGS[previous]} (${CLASSES[previous] === 'STANDARD_IA' ? 'Standard-IA' : CLASSES[previous]} bills ${wait} days at least)`,
      );
    }
  }
  return chosen.map((name) => ({ Days: days[name], StorageClass: CLASSES[name] }));
}

/** The first day content reaches an archive class under these transitions, if it ever does. */
export function firstArchiveDay(transitions: readonly Transition[]): number | undefined {
  return transitions.find((t) => t.StorageClass === 'GLACIER' || t.StorageClass === 'DEEP_ARCHIVE')?.Days;
}
