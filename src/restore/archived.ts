import { isReadableNow } from '../backend/archive.js';
import type { Backend, ObjectInfo } from '../backend/backend.js';
import { ArchivedError, isTwinvaultError, RetrievalPendingError } from '../errors.js';
import type { FileEntry } from '../repository/manifest.js';
import {
  type ArchivedObject,
  findArchived,
  inspectObjects,
  type NeededObject,
} from '../retrieval/find-archived.js';
import { describeArchived, pendingMessage, requestHint } from '../retrieval/messages.js';
import { type RetrievalPolicy, type RetrievalStatus, retrieveArchived } from '../retrieval/retrieve.js';
import { formatBytes } from '../util/format-bytes.js';

/** What a restore found and did about archived content, for the command's report. */
export interface ArchivedContentReport {
  /** Archived objects the restore needs (readable ones included). */
  archived: number;
  /** Objects read from a replica because the repository's copy is archived. */
  fromReplicas: Array<{ replica: string; objects: number; bytes: number }>;
  /** The archived objects no replica had readable, and what became of them. */
  retrieval?: RetrievalStatus;
}

export interface ArchivedContentOptions {
  /** The configured replicas: a readable copy there is read instead of waiting for a retrieval. */
  replicas: readonly Backend[];
  policy: RetrievalPolicy;
  onReport?: (report: ArchivedContentReport) => void;
}

/**
 * The restore step for archived content (RestoreOptions.prepareDownloads), run before anything
 * is written. Finds which objects the chosen files need are archived; takes each from a replica
 * that holds it readable (a hot copy beats hours and a fee); asks S3 for the rest as the policy
 * allows. Stops the restore, with nothing written, while any of them cannot be read: without
 * --request-archived saying which and how to get them (ArchivedError), otherwise saying they are on
 * their way (RetrievalPendingError: run the same command again; nothing is asked twice).
 * Returns where to read the objects taken from replicas.
 */
export function archivedContentStep(
  options: ArchivedContentOptions,
): (backend: Backend, files: readonly FileEntry[]) => Promise<ReadonlyMap<string, Backend>> {
  return async (backend, files) => {
    const needed = new Map<string, NeededObject>();
    for (const file of files)
      if (!needed.has(file.key)) needed.set(file.key, { key: file.key, size: file.size });
    const archived = await findArchived(backend, [...needed.values()]);
    const report: ArchivedContentReport = { archived: archived.length, fromReplicas: [] };
    const unreadable = archived.filter((object) => object.restore !== 'restored');
    const routes = await readableCopies(unreadable, options.replicas, report);
    const remaining = unreadable.filter((object) => !routes.has(object.key));
    if (remaining.length > 0) {
      report.retrieval = await retrieveArchived(backend, remaining, options.policy);
    }
    options.onReport?.(report);
    const status = report.retrieval;
    if (status === undefined || options.policy.dryRun) return routes;
    if (status.notRequested.length > 0) {
      throw new ArchivedError(
        `this restore needs archived objects that cannot be read until S3 restores them: ${describeArchived(status.notRequested)}; nothing was written${alsoPending(status)}`,
        { hint: requestHint(status.notRequested, options.policy.request?.days) },
      );
    }
    if (status.pending.length > 0) {
      throw new RetrievalPendingError(
        `${pendingMessage(status, options.policy.request?.tier ?? 'Bulk')}; nothing was written`,
        {
          hint: 'run the same command again later: it restores once they are ready, asking for nothing twice (or add --wait)',
        },
      );
    }
    return routes;
  };
}

function alsoPending(status: RetrievalStatus): string {
  return status.pending.length > 0 ? ` (${status.pending.length} more are being restored already)` : '';
}

/**
 * The replicas that hold a readable copy (same size, not archived) of archived objects, each
 * object from the first replica that has it. A replica that cannot be asked is passed over: the
 * retrieval is still there.
 */
async function readableCopies(
  objects: readonly ArchivedObject[],
  replicas: readonly Backend[],
  report: ArchivedContentReport,
): Promise<Map<string, Backend>> {
  const routes = new Map<string, Backend>();
  for (const replica of replicas) {
    const wanted = objects.filter((object) => !routes.has(object.key));
    if (wanted.length === 0) break;
    let found: Map<string, ObjectInfo>;
    try {
      found = await inspectObjects(replica, wanted);
    } catch (err) {
      if (!isTwinvaultError(err)) throw err;
      continue;
    }
    const taken = wanted.filter((object) => {
      const copy = found.get(object.key);
      return copy !== undefined && copy.size === object.size && isReadableNow(copy);
    });
    for (const object of taken) routes.set(object.key, replica);
    if (taken.length > 0) {
      report.fromReplicas.push({
        replica: replica.location,
        objects: taken.length,
        bytes: taken.reduce((sum, o) => sum + o.size, 0),
      });
    }
  }
  return routes;
}

/** "3 archived object(s) (1.2 MiB) read from the replica s3://…, instead of a retrieval". */
export function describeFromReplicas(report: ArchivedContentReport): string[] {
  return report.fromReplicas.map(
    (used) =>
      `${used.objects} archived object(s) (${formatBytes(used.bytes)}) read from the replica ${used.replica} instead of being retrieved from the archive`,
  );
}
