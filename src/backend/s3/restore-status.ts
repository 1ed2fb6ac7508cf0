import type { ArchiveState } from '../archive.js';
import { isArchiveClass } from '../archive.js';

/**
 * How an object stands as to archive and restore, from a HEAD answer: its class (absent means
 * STANDARD), the `x-amz-restore` header (`ongoing-request="true"`, or `ongoing-request="false",
 * expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"` once the copy is readable) and, for
 * Intelligent-Tiering's opt-in archive tiers, `x-amz-archive-status`. Undefined when the object
 * is not archived.
 */
export function archiveStateFromHead(
  head: {
    StorageClass?: string | undefined;
    Restore?: string | undefined;
    ArchiveStatus?: string | undefined;
  },
  now: Date,
): ArchiveState | undefined {
  if (!isArchiveClass(head.StorageClass) && head.ArchiveStatus === undefined) return undefined;
  const tier = head.ArchiveStatus === undefined ? {} : { tier: head.ArchiveStatus };
  const restore = head.Restore ?? '';
  if (/ongoing-request\s*=\s*"true"/i.test(restore)) return { restore: 'in-progress', ...tier };
  const expiry = /expiry-date\s*=\s*"([^"]+)"/i.exec(restore)?.[1];
  const until = expiry === undefined ? Number.NaN : Date.parse(expiry);
  if (/ongoing-request\s*=\s*"false"/i.test(restore) && until > now.getTime()) {
    return { restore: 'restored', restoredUntil: new Date(until), ...tier };
  }
  return { restore: 'none', ...tier };
}
