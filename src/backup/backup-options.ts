import type { Clock } from '../clock.js';
import type { SnapshotSource, SnapshotSummary } from '../repository/manifest.js';
import type { Repository } from '../repository/repository.js';
import type { BackupEventHandler } from './events.js';
import type { ScanHandle } from './scan/parallel-scan.js';

/** What backup() is asked to do (backup.ts) and what it tells when done. */

export interface BackupSource {
  path: string;
  name?: string | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  /** Back the folder up even when it is empty while its last snapshot held files (source-folder.ts). */
  allowEmpty?: boolean | undefined;
}

export interface BackupOptions {
  repository: Repository;
  sources: BackupSource[];
  host: string;
  tags?: string[];
  /** Exclusion patterns for every source (gitignore syntax, from each source's root). */
  exclude?: string[];
  stateFolder: string;
  clock?: Clock;
  /** Files read and uploaded at once. */
  concurrency?: number;
  /** Threads that scan the sources (0: scan on the calling thread). */
  scanThreads?: number;
  /** The scan, when started earlier with startBackupScan (with the same sources and excludes). */
  scan?: ScanHandle;
  /**
   * Look only at these paths (absolute, as a file watcher reported them: created, changed or
   * deleted) and carry every other entry over from the parent: no full scan. A source without
   * a parent, or whose root itself changed, is scanned in full.
   */
  changedPaths?: string[];
  /** Ids of snapshots known to hold some of the sources: looked at as parents however old. */
  parentHints?: string[];
  /**
   * Write no snapshot when it would equal its parent (same sources, every entry the same): the
   * summary then names the parent, with `written: false`.
   */
  skipIfUnchanged?: boolean;
  /** How long to wait for an exclusive lock (a prune) to go before giving up. */
  lockWaitMs?: number;
  /**
   * How long a call to the store that fails for a transient reason (unreachable, 5xx, throttled)
   * is retried before the run fails: default 2 minutes (backend/wrap/retry.ts).
   */
  storeRetryMs?: number;
  /**
   * How often (per host, in full scans) the objects carried over from the parents are checked to
   * be still stored, those gone being uploaded again from the files: default daily; 0 every run.
   */
  checkStoredEveryMs?: number;
  /** Every source may be empty (or no longer a mount point) where its last snapshot held files. */
  allowEmpty?: boolean;
  onEvent?: BackupEventHandler;
}

export interface BackupSummary {
  id: string;
  host: string;
  stamp: string;
  time: string;
  parent: string | undefined;
  sources: SnapshotSource[];
  tags: string[];
  files: { new: number; changed: number; unchanged: number; skipped: number };
  dirs: number;
  symlinks: number;
  bytesTotal: number;
  bytesRead: number;
  bytesUploaded: number;
  /**
   * Files whose content an interrupted earlier run had uploaded already: referenced where it lies
   * (leftovers.ts), not uploaded again.
   */
  resumed: { files: number; bytes: number };
  /**
   * Objects the parents referenced that the store no longer had, found by the periodic check
   * (missing-objects.ts): the files are uploaded again. Each is also in `notes`.
   */
  missingObjects: number;
  durationMs: number;
  /** False when skipIfUnchanged found nothing to write (id and stamp are then the parent's). */
  written: boolean;
  skipped: Array<{ path: string; reason: string }>;
  notes: Array<{ path: string; message: string }>;
}

/** Whether a source may be backed up empty where its last snapshot held files. */
export function allowsEmpty(options: BackupOptions, source: BackupSource): boolean {
  return options.allowEmpty === true || source.allowEmpty === true;
}

/** A summary with nothing counted yet; id and stamp come once the repository is listed. */
export function newSummary(
  options: BackupOptions,
  sources: Array<{ name: string; path: string }>,
  started: Date,
): BackupSummary {
  return {
    id: '',
    host: options.host,
    stamp: '',
    time: started.toISOString(),
    parent: undefined,
    sources: sources.map(({ name, path }) => ({ name, path })),
    tags: options.tags ?? [],
    files: { new: 0, changed: 0, unchanged: 0, skipped: 0 },
    dirs: 0,
    symlinks: 0,
    bytesTotal: 0,
    bytesRead: 0,
    bytesUploaded: 0,
    resumed: { files: 0, bytes: 0 },
    missingObjects: 0,
    durationMs: 0,
    written: true,
    skipped: [],
    notes: [],
  };
}

/** The summary as the manifest's header keeps it. */
export function manifestSummary(summary: BackupSummary): SnapshotSummary {
  return {
    files: summary.files.new + summary.files.changed + summary.files.unchanged,
    dirs: summary.dirs,
    symlinks: summary.symlinks,
    bytes: summary.bytesTotal,
    newFiles: summary.files.new,
    changedFiles: summary.files.changed,
    unchangedFiles: summary.files.unchanged,
    skipped: summary.files.skipped,
    bytesUploaded: summary.bytesUploaded,
  };
}
