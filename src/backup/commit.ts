import { isDeepStrictEqual } from 'node:util';
import { bodyFromBuffer } from '../backend/body.js';
import type { RepositoryLock } from '../repository/locks.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION } from '../repository/manifest.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import { manifestIndex } from '../repository/manifest-index.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import { manifestSummary } from './backup-options.js';
import type { BackupRun } from './backup-run.js';
import type { RunContentStore } from './content-store.js';
import { recordCheck } from './missing-objects.js';
import type { Parents } from './parents.js';
import type { RunParents } from './run-parents.js';
import type { SaveQueue } from './save-queue.js';

type Built = Awaited<ReturnType<SaveQueue['builder']['write']>>;

/**
 * Content before manifest (DESIGN invariant 1, first half): the manifest is merged only once every
 * save has settled, so every object it references is durable in the store.
 */
export async function buildManifest(run: BackupRun, saves: SaveQueue, ref: SnapshotRef): Promise<Built> {
  await saves.drain();
  const { summary } = run;
  return saves.builder.write((entries) => ({
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id: ref.id,
    host: run.options.host,
    stamp: ref.stamp,
    time: run.started.toISOString(),
    tags: summary.tags,
    ...(summary.parent ? { parent: summary.parent } : {}),
    sources: summary.sources,
    summary: manifestSummary(summary),
    entries,
  }));
}

/**
 * Manifest last (DESIGN invariant 1, second half): only while the run's lock is still held, and
 * create-only, so an existing snapshot is never replaced; only now does the snapshot exist. Its
 * local copy and index (what makes the next run fast) are staged meanwhile and moved into place
 * once the upload succeeded; failing to write them only makes the next run slower.
 */
export async function publishManifest(
  run: BackupRun,
  lock: RepositoryLock,
  ref: SnapshotRef,
  { written, columns }: Built,
): Promise<void> {
  await lock.ensureHeld();
  const upload = run.backend.put(ref.key, bodyFromBuffer(written.data), {
    createOnly: true,
    contentType: 'application/gzip',
  });
  const staged = run.cache
    .stage(ref, written.data, () => manifestIndex(written, columns))
    .catch(() => undefined);
  try {
    await upload;
  } catch (err) {
    await (await staged)?.discard().catch(() => {});
    throw err;
  }
  await (await staged)?.commit().catch(() => {});
}

/**
 * With skipIfUnchanged: whether the new snapshot would equal its only parent (same sources, every
 * entry the same), so that there is nothing to write. Called once every save has settled.
 */
export async function unchangedFromParent(
  run: BackupRun,
  saves: SaveQueue,
  parents: Parents,
): Promise<boolean> {
  // Only a single parent holding exactly these sources can be equal to the new snapshot.
  const bases = [...new Set(parents.bySource.values())];
  const only = bases.length === 1 ? bases[0]! : undefined;
  if (!run.options.skipIfUnchanged || !only || !isDeepStrictEqual(only.header.sources, run.summary.sources))
    return false;
  if (!(await saves.builder.sameAs(only))) return false;
  Object.assign(run.summary, { id: only.ref.id, stamp: only.ref.stamp, written: false });
  return true;
}

/** The run has ended well: housekeeping whose failure costs the next run time, never data. */
export async function afterSuccess(
  run: BackupRun,
  parents: RunParents,
  content: RunContentStore | undefined,
  ref: SnapshotRef | undefined,
): Promise<void> {
  if (ref) {
    await dropSupersededIndexes(run.cache, parents, run.summary.sources).catch(() => {});
    await content?.finish(ref).catch(() => {});
  }
  if (parents.stored.ran) await recordCheck(run.cache, run.options.host, run.started).catch(() => {});
  run.summary.durationMs = run.clock.now().getTime() - run.started.getTime();
}

/** A parent's local index is kept only while some source has no newer snapshot. */
async function dropSupersededIndexes(
  cache: ManifestCache,
  parents: Parents,
  sources: Array<{ name: string; path: string }>,
): Promise<void> {
  const covered = new Set(sources.map((source) => `${source.name}\0${source.path}`));
  for (const parent of new Set(parents.bySource.values())) {
    if (parent.header.sources.every((source) => covered.has(`${source.name}\0${source.path}`)))
      await cache.dropIndex(parent.ref);
  }
}
