import type { SnapshotRef } from '../repository/snapshots.js';
import { allowsEmpty } from './backup-options.js';
import type { BackupRun } from './backup-run.js';
import { CHECK_STORED_EVERY_MS, checkDue, markMissingObjects, StoredCheck } from './missing-objects.js';
import { LocalIndexError } from './parent-manifest.js';
import { lastSnapshotOf, loadParents, type Parents } from './parents.js';
import {
  checkSourcesNotEmptied,
  type LastSnapshotOfSource,
  type SourceFolderIdentity,
} from './source-folder.js';

/** What the run builds on, and what it learnt of it. */
export interface RunParents extends Parents {
  /** Per source (in the run's order), what its parent held of it. */
  lastOf: Array<LastSnapshotOfSource | undefined>;
  /**
   * The periodic check of what is stored, if it ran (recorded once the run has ended well): the
   * objects it found gone are neither carried over nor deduplicated against.
   */
  stored: StoredCheck;
}

/**
 * Finds each source's parent (parents.ts), holds each root the run found against it (an emptied
 * or unmounted source fails the run here, before anything is uploaded: source-folder.ts), and now
 * and then (per host, full scans only) checks that what will be carried over is still stored
 * (missing-objects.ts). A failure stops the scan; a damaged local index is dropped.
 */
export async function findParents(
  run: BackupRun,
  hostSnapshots: SnapshotRef[],
  roots: SourceFolderIdentity[],
): Promise<RunParents> {
  const { options, sources } = run;
  try {
    const parents = await loadParents(
      run.backend,
      run.cache,
      hostSnapshots,
      sources,
      options.parentHints,
      (ref, err) => run.note(ref.key, `not used as a parent, it cannot be read: ${err.message}`),
      run.started,
    );
    const lastOf = sources.map((source) => lastSnapshotOf(parents, source.name));
    checkSourcesNotEmptied(
      sources.map((source, i) => ({
        path: source.path,
        now: roots[i]!,
        last: lastOf[i],
        allowEmpty: allowsEmpty(options, source),
      })),
    );
    const found: RunParents = { ...parents, lastOf, stored: StoredCheck.skipped() };
    const bases = [...new Set(parents.bySource.values())];
    const every = options.checkStoredEveryMs ?? CHECK_STORED_EVERY_MS;
    if (
      !options.changedPaths &&
      bases.length > 0 &&
      (await checkDue(run.cache, options.host, run.started, every))
    ) {
      found.stored = await markMissingObjects(run.backend, bases, options.host);
      run.summary.missingObjects = found.stored.gone.size;
      for (const key of found.stored.gone)
        run.note(key, 'missing from the repository: uploaded again from the file on disk');
    }
    return found;
  } catch (err) {
    run.scan?.stop();
    // The check reads every parent entry: a damaged local index shows here too, and is dropped.
    if (err instanceof LocalIndexError) await run.cache.dropIndex(err.ref).catch(() => {});
    throw err;
  }
}
