import { ArchivedError } from '../errors.js';

/**
 * Archived objects: S3 Glacier Flexible Retrieval and Deep Archive (and the opt-in archive tiers
 * of Intelligent-Tiering) keep an object's bytes offline. GET and CopyObject fail with
 * InvalidObjectState until a restore request (RestoreObject) has made a temporary readable copy,
 * hours later; that copy lasts the number of days asked for. Listings, HEAD and DELETE work as
 * for any object.
 */

/** Storage classes whose objects must be restored before they can be read. */
export const ARCHIVE_CLASSES: readonly string[] = ['GLACIER', 'DEEP_ARCHIVE'];

export function isArchiveClass(storageClass: string | undefined): boolean {
  return storageClass !== undefined && ARCHIVE_CLASSES.includes(storageClass);
}

/** Where an archived object stands; present on ObjectInfo only for archived objects. */
export interface ArchiveState {
  /**
   * 'none': no restore asked (or the last copy expired); 'in-progress': asked, not ready yet;
   * 'restored': readable until `restoredUntil`; 'unknown': the source does not say (an S3
   * listing gives the class but not the restore state: head() does).
   */
  restore: 'none' | 'in-progress' | 'restored' | 'unknown';
  restoredUntil?: Date;
  /** Intelligent-Tiering's archive tiers, which show no archive class (ARCHIVE_ACCESS, ...). */
  tier?: string;
}

/** S3's retrieval tiers: price and speed (minutes, hours, half a day or more). */
export const RESTORE_TIERS = ['Bulk', 'Standard', 'Expedited'] as const;
export type RestoreTier = (typeof RESTORE_TIERS)[number];

/**
 * How long S3 says a retrieval takes at most, in hours, by class and tier (AWS documentation:
 * Expedited 1–5 minutes, Standard 3–5 hours, Bulk 5–12 hours; Deep Archive: Standard within 12
 * hours, Bulk within 48, no Expedited). For messages, and the memory backend's simulation.
 */
export const RETRIEVAL_HOURS: Record<string, Partial<Record<RestoreTier, number>>> = {
  GLACIER: { Expedited: 5 / 60, Standard: 5, Bulk: 12 },
  DEEP_ARCHIVE: { Standard: 12, Bulk: 48 },
};

export interface RestoreRequest {
  tier: RestoreTier;
  /** How long the readable copy is kept (days). */
  days: number;
}

/**
 * What a restore request came to: 'started' (accepted now), 'in-progress' (one was already under
 * way), 'restored' (already readable; its copy is kept `days` from now), 'not-archived' (the
 * object can be read as it is: nothing to do).
 */
export type RestoreRequestOutcome = 'started' | 'in-progress' | 'restored' | 'not-archived';

/** Whether the object can be read now: not archived, or restored. */
export function isReadableNow(info: { archive?: ArchiveState }): boolean {
  return info.archive === undefined || info.archive.restore === 'restored';
}

/** The error of a read or copy of an archived object: what it is, and how to get it back. */
export function archivedObjectError(what: string, storageClass?: string, cause?: unknown): ArchivedError {
  return new ArchivedError(
    `object ${what} is archived${storageClass ? ` (${storageClass})` : ''} and cannot be read until S3 has restored a copy of it`,
    {
      ...(cause === undefined ? {} : { cause }),
      hint: 'twinvault restore and verify --read-data ask for the retrieval with --request-archived (docs/STORAGE.md, "Cold storage")',
    },
  );
}
