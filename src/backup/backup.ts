import { stampFor } from '../repository/layout.js';
import { refFor } from '../repository/snapshots.js';
import type { BackupOptions, BackupSummary } from './backup-options.js';
import { startRun } from './backup-run.js';
import { afterSuccess, buildManifest, publishManifest, unchangedFromParent } from './commit.js';
import { RunContentStore } from './content-store.js';
import { Leftovers } from './leftovers.js';
import { LocalIndexError } from './parent-manifest.js';
import type { Parents } from './parents.js';
import { lockForBackup } from './run-lock.js';
import { findParents } from './run-parents.js';
import { checkRoots, checkSomethingKept, finishScan, scanAll, scanChanges } from './run-scan.js';
import { SaveQueue } from './save-queue.js';

export type { BackupOptions, BackupSource, BackupSummary } from './backup-options.js';
export { startBackupScan } from './run-scan.js';

/**
 * Backs up the sources as one new snapshot (DESIGN §1–2): walks them, reuses the parent's entries
 * for unchanged files, hashes new and changed ones, uploads content the repository lacks under
 * `<host>/<stamp>/`, and writes the manifest last, only after every object it references is
 * stored. A crash at any point leaves at most unreferenced objects. The phases, in order: the
 * roots are checked (run-scan.ts), the scan starts, the repository is locked and listed
 * (run-lock.ts), the parents are found (run-parents.ts), saves run while the scan goes on
 * (save-queue.ts), then the manifest is built once they have settled and published last
 * (commit.ts).
 */
export async function backup(options: BackupOptions): Promise<BackupSummary> {
  const run = startRun(options);
  const { summary } = run;
  const saves = new SaveQueue(run);
  const roots = await checkRoots(run);
  let scanned = scanAll(run, saves.builder);
  let locked: Awaited<ReturnType<typeof lockForBackup>>;
  try {
    locked = await lockForBackup(run.backend, options, run.clock);
  } catch (err) {
    run.scan?.stop();
    throw err;
  }
  const { lock, meta } = locked;
  try {
    const hostSnapshots = meta.snapshots.filter((ref) => ref.host === options.host);
    const stamp = stampFor(run.started, (candidate) => hostSnapshots.some((ref) => ref.stamp === candidate));
    const ref = refFor(options.host, stamp);
    summary.id = ref.id;
    summary.stamp = stamp;
    const parents = await findParents(run, hostSnapshots, roots);
    // Saves start only once records are matched against the parents, which is after this.
    const leftovers = new Leftovers(
      run.backend,
      options.host,
      stamp,
      new Set(hostSnapshots.map((snapshot) => snapshot.stamp)),
      resumeFrom(run.sources, parents, run.started),
    );
    const content = new RunContentStore(run.backend, run.cache, meta.snapshots, leftovers, parents.stored);
    saves.startSaving(stamp, content);
    summary.parent = parents.parent?.id;
    let built: Awaited<ReturnType<typeof buildManifest>>;
    try {
      let focus: Array<string[] | undefined> = [];
      if (options.changedPaths)
        ({ focus, scanned } = scanChanges(run, saves.builder, parents, options.changedPaths));
      saves.builder.useParents(parents.bySource);
      await finishScan(run, saves.builder, scanned, roots);
      await saves.drain();
      checkSomethingKept(run, saves.builder, parents, focus);
      if (await unchangedFromParent(run, saves, parents)) {
        await afterSuccess(run, parents, undefined, undefined);
        return summary;
      }
      built = await buildManifest(run, saves, ref);
    } catch (err) {
      // Nothing goes on after the run has failed: no more records, no new saves, and the saves
      // already started settle before the lock goes.
      run.scan?.stop();
      const saveFailure = await saves.abandon();
      if (err instanceof LocalIndexError) await run.cache.dropIndex(err.ref).catch(() => {});
      throw saveFailure ?? err;
    }
    await publishManifest(run, lock, ref, built);
    await afterSuccess(run, parents, content, ref);
    return summary;
  } finally {
    await lock.release().catch(() => {
      // A lock we cannot delete goes stale on its own.
    });
  }
}

/**
 * Where leftovers of interrupted runs are looked for (leftovers.ts): after the oldest snapshot
 * the sources build on (none without a parent), and within the resume window.
 */
function resumeFrom(sources: Array<{ name: string }>, parents: Parents, now: Date): string {
  let oldest: string | undefined;
  for (const { name } of sources) {
    const stamp = parents.bySource.get(name)?.ref.stamp;
    if (stamp === undefined) {
      oldest = undefined;
      break;
    }
    if (oldest === undefined || stamp < oldest) oldest = stamp;
  }
  const window = Leftovers.windowStart(now);
  return oldest !== undefined && oldest > window ? oldest : window;
}
