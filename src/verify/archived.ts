import type { Backend, ObjectInfo } from '../backend/backend.js';
import { findArchived } from '../retrieval/find-archived.js';
import { requestHint } from '../retrieval/messages.js';
import { type RetrievalPolicy, retrieveArchived } from '../retrieval/retrieve.js';

/** What `--read-data` did about the archived objects it chose. */
export interface ArchivedReadReport {
  /** Chosen objects in an archive class (GLACIER, DEEP_ARCHIVE). */
  objects: number;
  bytes: number;
  /** Read all the same: their restored copies. */
  read: number;
  /** Not read: archived, and not asked for (the agent's check, or no --request-archived). */
  notRead: { objects: number; bytes: number; keys: string[] };
  /** Retrievals under way (asked by this run or before): a later run reads them. */
  pending: number;
  /** Restore requests this run sent, and their estimated cost (USD, AWS list prices). */
  requested: number;
  estimateUsd?: number;
  /** How to read what was not read. */
  hint?: string;
}

/** Decides which archived objects `--read-data` reads now: the rest are reported, not read. */
export type ArchivedReadPolicy = (
  backend: Backend,
  archived: readonly ObjectInfo[],
) => Promise<{ read: ReadonlySet<string>; report: ArchivedReadReport }>;

const SHOWN_KEYS = 5;

/**
 * The default, and the agent's: an archived object is never read and never asked for (a
 * retrieval costs money and hours, and reading a restored copy proves little about the archived
 * one); the listing already named them, so not even a HEAD is spent. Reported as not read.
 */
export const skipArchived: ArchivedReadPolicy = async (_backend, archived) => ({
  read: new Set(),
  report: {
    ...emptyReport(archived),
    notRead: {
      objects: archived.length,
      bytes: archived.reduce((sum, o) => sum + o.size, 0),
      keys: archived.slice(0, SHOWN_KEYS).map((o) => o.key),
    },
  },
});

/**
 * `verify --read-data` from the command line: restored copies are read; the others are asked for
 * when the policy says so (--request-archived), waited for with --wait, or reported with how to
 * get them.
 */
export function readArchived(policy: RetrievalPolicy): ArchivedReadPolicy {
  return async (backend, objects) => {
    const known = new Map(objects.map((o) => [o.key, o]));
    const archived = await findArchived(backend, objects, known);
    const status = await retrieveArchived(backend, archived, policy);
    const notRead = status.notRequested;
    const report: ArchivedReadReport = {
      ...emptyReport(objects),
      read: status.ready.length,
      notRead: {
        objects: notRead.length,
        bytes: notRead.reduce((sum, o) => sum + o.size, 0),
        keys: notRead.slice(0, SHOWN_KEYS).map((o) => o.key),
      },
      pending: status.pending.length,
      requested: status.requested,
      ...(status.estimate && status.requested > 0 ? { estimateUsd: status.estimate.usd } : {}),
      ...(notRead.length > 0 ? { hint: requestHint(notRead, policy.request?.days) } : {}),
    };
    return { read: new Set(status.ready.map((o) => o.key)), report };
  };
}

function emptyReport(archived: readonly ObjectInfo[]): ArchivedReadReport {
  return {
    objects: archived.length,
    bytes: archived.reduce((sum, o) => sum + o.size, 0),
    read: 0,
    notRead: { objects: 0, bytes: 0, keys: [] },
    pending: 0,
    requested: 0,
  };
}

/** An object found archived only when read (a transition meanwhile): counted as not read. */
export function noteArchivedOnRead(
  report: ArchivedReadReport | undefined,
  key: string,
  size: number,
): ArchivedReadReport {
  const updated = report ?? emptyReport([]);
  updated.objects++;
  updated.bytes += size;
  updated.notRead.objects++;
  updated.notRead.bytes += size;
  if (updated.notRead.keys.length < SHOWN_KEYS) updated.notRead.keys.push(key);
  return updated;
}
