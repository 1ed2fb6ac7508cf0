import { LocalPathError } from '../errors.js';
import { allowsEmpty, type BackupOptions } from './backup-options.js';
import type { BackupRun } from './backup-run.js';
import { focusOf } from './focus-plan.js';
import type { RunParents } from './run-parents.js';
import { IgnoreRules } from './scan/ignore-rules.js';
import { DEFAULT_SCAN_THREADS, ScanHandle } from './scan/parallel-scan.js';
import type { SnapshotBuilder } from './snapshot-builder.js';
import {
  checkSourceFolders,
  checkSourcesUnchanged,
  emptiedByRulesError,
  type SourceFolderIdentity,
} from './source-folder.js';
import { nameSources } from './source-names.js';

/**
 * Starts scanning the sources on other threads. A scan needs nothing from the repository, so a
 * caller can start it first and open the repository meanwhile; backup() starts it itself otherwise.
 */
export function startBackupScan(
  options: Pick<BackupOptions, 'sources' | 'exclude' | 'scanThreads'> & {
    focus?: Array<string[] | undefined>;
  },
): ScanHandle {
  const specs = nameSources(options.sources).map((source) => ({
    root: source.path,
    name: source.name,
    rules: IgnoreRules.forSource(
      [...(options.exclude ?? []), ...(source.exclude ?? [])],
      source.include ?? [],
    ).spec,
  }));
  return new ScanHandle(specs, options.scanThreads ?? DEFAULT_SCAN_THREADS, options.focus);
}

/**
 * Every source must be a folder that can be listed before anything is written (source-folder.ts).
 * Each root's device and inode are kept to find it swapped at the end, and a root that is a mount
 * point is recorded as one in the snapshot, so that a run finding it unmounted fails.
 */
export async function checkRoots(run: BackupRun): Promise<SourceFolderIdentity[]> {
  let roots: SourceFolderIdentity[];
  try {
    roots = await checkSourceFolders(run.sources.map((source) => source.path));
  } catch (err) {
    run.options.scan?.stop();
    throw err;
  }
  run.summary.sources = run.sources.map(({ name, path }, i) => ({
    name,
    path,
    ...(roots[i]!.mountPoint ? { mountPoint: true as const } : {}),
  }));
  return roots;
}

/**
 * A full scan starts at once (unless the caller started it already), its records waiting in the
 * builder for the parents. A watcher-driven run needs the parents to know what it may leave out:
 * its scan starts later (scanChanges).
 */
export function scanAll(run: BackupRun, builder: SnapshotBuilder): Promise<void> | undefined {
  if (run.options.changedPaths) return undefined;
  run.scan = run.options.scan ?? startBackupScan(run.options);
  return run.scan.consume(builder);
}

/** A watcher-driven run's scan: per source, only the paths changed (undefined: all of it). */
export function scanChanges(
  run: BackupRun,
  builder: SnapshotBuilder,
  parents: RunParents,
  changedPaths: string[],
): { focus: Array<string[] | undefined>; scanned: Promise<void> } {
  const { sources } = run;
  // Reads the parents' hard-link entries: a damaged local index fails here, and is dropped.
  const focus = focusOf(sources, parents, changedPaths);
  builder.focusOn(new Map(sources.map((source, i) => [source.name, focus[i]])));
  run.scan = startBackupScan({ ...run.options, focus });
  return { focus, scanned: run.scan.consume(builder) };
}

/**
 * The scan is over: a root that could not be read, or that is no longer the folder it was at the
 * start (unmounted meanwhile), fails the run (source-folder.ts).
 */
export async function finishScan(
  run: BackupRun,
  builder: SnapshotBuilder,
  scanned: Promise<void> | undefined,
  roots: SourceFolderIdentity[],
): Promise<void> {
  await scanned;
  if (run.unreadableRoots.length > 0)
    throw new LocalPathError(run.unreadableRoots.join('; '), {
      hint: 'run the backup again once the source is back; no snapshot was written',
    });
  await checkSourcesUnchanged(roots);
  run.onEvent({ type: 'scanned', ...builder.totals });
}

/**
 * Once every record is matched: a source scanned in full of which nothing was kept (its rules
 * leave out all it holds) while its parent held files fails the run like an empty one. Sources
 * looked at only where they changed were held against their parents already (run-parents.ts).
 */
export function checkSomethingKept(
  run: BackupRun,
  builder: SnapshotBuilder,
  parents: RunParents,
  focus: Array<string[] | undefined>,
): void {
  run.sources.forEach((source, i) => {
    const last = parents.lastOf[i];
    if (focus[i] || !last || last.files === 0 || allowsEmpty(run.options, source)) return;
    if (!builder.scannedAnythingIn(source.name)) throw emptiedByRulesError(source.path, last);
  });
}
