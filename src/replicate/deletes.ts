import type { Backend } from '../backend/backend.js';
import { isTwinvaultError, StorageError } from '../errors.js';
import { SNAPSHOTS_PREFIX } from '../repository/layout.js';
import { forEachReference } from '../repository/manifest-refs.js';
import type { DeleteRule, PassSummary, ReplicationEvent } from './events.js';
import { PendingDeletes } from './pending-deletes.js';

interface ListedKey {
  key: string;
  lastModified: Date;
}

export interface DeleteJob {
  destination: Backend;
  rule: DeleteRule;
  /** Manifests in the destination that the source no longer has. */
  extraManifests: ListedKey[];
  /** Content objects in the destination that the source no longer has. */
  extraObjects: ListedKey[];
  /** Only what was written before this time (ms) is deleted: later writes may be live copies. */
  writtenBefore: number;
  now: number;
  dryRun: boolean;
  summary: PassSummary;
  emit: (event: ReplicationEvent) => void;
}

/**
 * Carries deletions of the source over to a replica whose policy is "mirror" or "delay":
 * manifests first, then objects that no remaining manifest of the replica references. So the
 * replica never holds a snapshot missing an object, even when the source itself lost an object a
 * snapshot still needs (the replica's copy is then the one left, and it is kept).
 */
export async function applyDeletes(job: DeleteJob): Promise<void> {
  const { destination, rule, now, summary } = job;
  if (job.extraManifests.length === 0 && job.extraObjects.length === 0 && rule.policy !== 'delay') return;
  const pending = rule.policy === 'delay' ? await PendingDeletes.load(destination) : undefined;
  const waiting = new Map<string, number>();
  const due = (key: string) => {
    if (!pending) return true;
    const since = pending.firstMissing(key, now);
    if (now - since >= (rule.afterMs ?? 0)) return true;
    waiting.set(key, since);
    return false;
  };

  const settled = (listed: ListedKey) => listed.lastModified.getTime() < job.writtenBefore;
  const manifests = job.extraManifests
    .filter(settled)
    .map(({ key }) => key)
    .filter(due);
  await deleteKeys(job, manifests);
  const objects = job.extraObjects
    .filter(settled)
    .map(({ key }) => key)
    .filter(due);
  if (objects.length > 0) {
    const referenced = await stillReferenced(destination, new Set(job.dryRun ? manifests : []));
    const unreferenced = objects.filter((key) => !referenced.has(key));
    summary.deletes.kept += objects.length - unreferenced.length;
    // Kept while referenced, their delay clocks keep running.
    if (pending)
      for (const key of objects) if (referenced.has(key)) waiting.set(key, pending.firstMissing(key, now));
    await deleteKeys(job, unreferenced);
  }
  summary.deletes.waiting = waiting.size;
  if (pending && !job.dryRun) await pending.keepOnly(waiting);
}

async function deleteKeys(job: DeleteJob, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  if (job.dryRun) {
    job.summary.deletes.deleted += keys.length;
    return;
  }
  const result = await job.destination.deleteMany(keys);
  const failed = new Set(result.failed.map((failure) => failure.key));
  for (const failure of result.failed) {
    job.summary.objects.failed++;
    job.emit({
      type: 'failed',
      key: failure.key,
      error: isTwinvaultError(failure.error)
        ? failure.error
        : new StorageError(failure.error.message, { cause: failure.error }),
    });
  }
  for (const key of keys) {
    if (failed.has(key)) continue;
    job.summary.deletes.deleted++;
    job.emit({ type: 'deleted', key });
  }
}

/** Every object some manifest left in the destination references (`ignoring` those being deleted). */
async function stillReferenced(destination: Backend, ignoring: ReadonlySet<string>): Promise<Set<string>> {
  const referenced = new Set<string>();
  for await (const object of destination.list(SNAPSHOTS_PREFIX)) {
    if (ignoring.has(object.key)) continue;
    await forEachReference(destination, object.key, (key) => referenced.add(key));
  }
  return referenced;
}
