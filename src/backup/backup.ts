import { basename, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer } from '../backend/body.js';
import { RetryingBackend } from '../backend/wrap/retry.js';
import { type Clock, systemClock } from '../clock.js';
import { isTwinvaultError, LocalPathError, UsageError } from '../errors.js';
import { isValidHost, stampFor } from '../repository/layout.js';
import { describeLock, lockedError } from '../repository/lock-message.js';
import { liveExclusiveLocks, RepositoryLock } from '../repository/locks.js';
import {
  type FileEntry,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type SnapshotSource,
  type SnapshotSummary,
} from '../repository/manifest.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { manifestIndex } from '../repository/manifest-index.js';
import type { Repository } from '../repository/repository.js';
import { listMeta, type MetaListing, refFor } from '../repository/snapshots.js';
import { WorkQueue } from '../util/work-queue.js';
import { RunContentStore } from './content-store.js';
import { baseEntry, changeFields, contentKey, isRacy, type ScanItem } from './entry-fields.js';
import type { BackupEventHandler } from './events.js';
import { ChangedWhileReadingError, SMALL_FILE_LIMIT, saveFile } from './file-saver.js';
import { focusOf } from './focus-plan.js';
import { Leftovers } from './leftovers.js';
import { CHECK_STORED_EVERY_MS, checkDue, markMissingObjects, recordCheck } from './missing-objects.js';
import { LocalIndexError } from './parent-manifest.js';
import { lastSnapshotOf, loadParents, type Parents } from './parents.js';
import { IgnoreRules } from './scan/ignore-rules.js';
import { DEFAULT_SCAN_THREADS, ScanHandle } from './scan/parallel-scan.js';
import { sizeOf } from './scan/records.js';
import { reason } from './scan/walker.js';
import { type ScanRecord, SnapshotBuilder } from './snapshot-builder.js';
import {
  checkSourceFolders,
  checkSourcesNotEmptied,
  checkSourcesUnchanged,
  emptiedByRulesError,
} from './source-folder.js';

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

const LOCK_POLL_MS = 10_000;

/**
 * Backs up the sources as one new snapshot (DESIGN §1–2): walks them, reuses the parent's entries
 * for unchanged files, hashes new and changed ones, uploads content the repository lacks under
 * `<host>/<stamp>/`, and writes the manifest last, only after every object it references is
 * stored. A crash at any point leaves at most unreferenced objects.
 */
export async function backup(options: BackupOptions): Promise<BackupSummary> {
  const clock = options.clock ?? systemClock;
  const onEvent = options.onEvent ?? (() => {});
  const started = clock.now();
  const { config } = options.repository;
  // A store restarted or a network gone for a moment does not end the run: each call is retried
  // for a while, and each retry is reported (the CLI prints it).
  const backend = new RetryingBackend(options.repository.backend, {
    clock,
    ...(options.storeRetryMs === undefined ? {} : { retryForMs: options.storeRetryMs }),
    onRetry: (retry) => onEvent({ type: 'retrying', ...retry }),
  });
  if (!isValidHost(options.host)) {
    throw new UsageError(
      `"${options.host}" cannot be used as a host name (letters, digits, ".", "_" and "-")`,
    );
  }
  const sources = nameSources(options.sources);
  const cache = ManifestCache.forRepository(options.stateFolder, config.id);
  const summary: BackupSummary = {
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
  // A source root that cannot be read during the scan fails the run (see source-folder.ts).
  const rootNames = new Map(sources.map((source) => [source.name, source.path]));
  const unreadableRoots: string[] = [];
  const skip = (path: string, why: string) => {
    const root = rootNames.get(path);
    if (root !== undefined) unreadableRoots.push(`the source folder ${root} could not be read: ${why}`);
    summary.skipped.push({ path, reason: why });
    summary.files.skipped++;
    onEvent({ type: 'skip', path, reason: why });
  };
  const note = (path: string, message: string) => {
    summary.notes.push({ path, message });
    onEvent({ type: 'note', path, message });
  };

  // Saving starts while the scan still runs. Records are matched (and so saves asked for) only
  // once the parents are loaded, by which time the stamp and the content store exist.
  let saving: { stamp: string; content: RunContentStore } | undefined;
  const queue = new WorkQueue(options.concurrency ?? 32, IN_FLIGHT_BYTES);
  const save = (record: ScanRecord, previous: FileEntry | undefined) => {
    queue.push(
      () => saveOne(builder.itemFor(record), previous),
      Math.min(sizeOf(record.stat), SMALL_FILE_LIMIT),
    );
  };
  const full = () => queue.waitingCount >= SAVES_WAITING;
  const builder = new SnapshotBuilder(sources, summary, { onEvent, skip, note, save, full });
  queue.onTaskEnd = () => {
    if (queue.waitingCount >= SAVES_WAITING / 2) return;
    try {
      builder.resume();
    } catch (err) {
      // Matching a record failed (a damaged parent, say): the run fails with that error.
      builder.close();
      queue.fail(err);
    }
  };
  const saveOne = async (item: ScanItem, previous: FileEntry | undefined) => {
    const { stamp, content } = saving!;
    try {
      const saved = await saveFile(
        backend,
        content,
        item.fsPath,
        contentKey(options.host, stamp, item),
        item.stat,
        item.path,
      );
      const settled = { ...item, stat: saved.stat };
      const entry: FileEntry = {
        ...baseEntry(settled),
        ...changeFields(settled),
        ...(isRacy(saved.stat, clock.now()) ? { ctime: '0' } : {}),
        type: 'file',
        size: saved.stat.size,
        sha256: saved.sha256,
        key: saved.key,
      };
      builder.addSaved(entry, item);
      // Read again but with the same content (touched, or racy last time) is still unchanged.
      const status = !previous ? 'new' : previous.sha256 === saved.sha256 ? 'unchanged' : 'changed';
      summary.files[status]++;
      summary.bytesTotal += entry.size;
      summary.bytesRead += saved.bytesRead;
      summary.bytesUploaded += saved.bytesUploaded;
      if (saved.resumed) {
        summary.resumed.files++;
        summary.resumed.bytes += entry.size;
      }
      onEvent({
        type: 'file',
        path: item.path,
        status,
        read: true,
        size: entry.size,
        uploaded: saved.bytesUploaded,
      });
    } catch (err) {
      if (err instanceof ChangedWhileReadingError)
        skip(item.path, err.message || 'it kept changing while being read');
      else if (isFileReadError(err)) skip(item.path, reason(err));
      else {
        scan?.stop(); // storage failures (and anything unexpected) end the run: no manifest is written
        throw err;
      }
    }
  };

  let roots: Awaited<ReturnType<typeof checkSourceFolders>>;
  try {
    roots = await checkSourceFolders(sources.map((source) => source.path));
  } catch (err) {
    options.scan?.stop();
    throw err;
  }
  // A mount point is recorded: finding it gone later (an unmounted disk) fails that run.
  summary.sources = sources.map(({ name, path }, i) => ({
    name,
    path,
    ...(roots[i]!.mountPoint ? { mountPoint: true as const } : {}),
  }));
  const allowEmpty = (source: BackupSource) => options.allowEmpty === true || source.allowEmpty === true;
  // A focused scan needs the parents (to know what it may leave out), so it starts after them.
  let scan = options.changedPaths ? undefined : (options.scan ?? startBackupScan(options));
  let scanned = scan?.consume(builder);
  let lock: RepositoryLock;
  let meta: MetaListing;
  try {
    ({ lock, meta } = await lockForBackup(backend, options, clock));
  } catch (err) {
    scan?.stop();
    throw err;
  }
  try {
    const hostSnapshots = meta.snapshots.filter((ref) => ref.host === options.host);
    const stamp = stampFor(started, (candidate) => hostSnapshots.some((ref) => ref.stamp === candidate));
    const ref = refFor(options.host, stamp);
    summary.id = ref.id;
    summary.stamp = stamp;
    let parents: Parents;
    // Now and then (per host, full scans only): is what is carried over still stored?
    let checkedStored = false;
    let gone = new Set<string>();
    let lastOf: Array<ReturnType<typeof lastSnapshotOf>>;
    try {
      parents = await loadParents(backend, cache, hostSnapshots, sources, options.parentHints, (ref, err) =>
        note(ref.key, `not used as a parent, it cannot be read: ${err.message}`),
      );
      lastOf = sources.map((source) => lastSnapshotOf(parents, source.name));
      checkSourcesNotEmptied(
        sources.map((source, i) => ({
          path: source.path,
          now: roots[i]!,
          last: lastOf[i],
          allowEmpty: allowEmpty(source),
        })),
      );
      const bases = [...new Set(parents.bySource.values())];
      const every = options.checkStoredEveryMs ?? CHECK_STORED_EVERY_MS;
      if (
        !options.changedPaths &&
        bases.length > 0 &&
        (await checkDue(cache, options.host, started, every))
      ) {
        gone = await markMissingObjects(backend, bases, options.host);
        checkedStored = true;
        summary.missingObjects = gone.size;
        for (const key of gone)
          note(key, 'missing from the repository: uploaded again from the file on disk');
      }
    } catch (err) {
      scan?.stop();
      // The check reads every parent entry: a damaged local index shows here too, and is dropped.
      if (err instanceof LocalIndexError) await cache.dropIndex(err.ref).catch(() => {});
      throw err;
    }
    // Saves start only once records are matched against the parents, which is after this.
    const leftovers = new Leftovers(
      backend,
      options.host,
      stamp,
      new Set(hostSnapshots.map((snapshot) => snapshot.stamp)),
      resumeFrom(sources, parents, started),
    );
    saving = { stamp, content: new RunContentStore(backend, cache, meta.snapshots, leftovers, gone) };
    summary.parent = parents.parent?.id;
    let built: Awaited<ReturnType<SnapshotBuilder['write']>>;
    let focus: Array<string[] | undefined> = [];
    try {
      if (options.changedPaths) {
        // Reads the parents' hard-link entries: a damaged local index fails here, and is dropped.
        focus = focusOf(sources, parents, options.changedPaths);
        builder.focusOn(new Map(sources.map((source, i) => [source.name, focus[i]])));
        scan = startBackupScan({ ...options, focus });
        scanned = scan.consume(builder);
      }
      builder.useParents(parents.bySource);
      await scanned;
      if (unreadableRoots.length > 0)
        throw new LocalPathError(unreadableRoots.join('; '), {
          hint: 'run the backup again once the source is back; no snapshot was written',
        });
      await checkSourcesUnchanged(roots);
      onEvent({ type: 'scanned', ...builder.totals });
      await queue.drain();
      sources.forEach((source, i) => {
        const last = lastOf[i];
        // Sources looked at only where they changed were checked above (empty root, mount point).
        if (focus[i] || !last || last.files === 0 || allowEmpty(source)) return;
        if (!builder.scannedAnythingIn(source.name)) throw emptiedByRulesError(source.path, last);
      });
      // Only a single parent holding exactly these sources can be equal to the new snapshot.
      const bases = [...new Set(parents.bySource.values())];
      const only = bases.length === 1 ? bases[0]! : undefined;
      if (
        options.skipIfUnchanged &&
        only &&
        isDeepStrictEqual(only.header.sources, summary.sources) &&
        (await builder.sameAs(only))
      ) {
        Object.assign(summary, { id: only.ref.id, stamp: only.ref.stamp, written: false });
        if (checkedStored) await recordCheck(cache, options.host, started).catch(() => {});
        summary.durationMs = clock.now().getTime() - started.getTime();
        return summary;
      }
      built = await builder.write((entries) => ({
        format: MANIFEST_FORMAT,
        version: MANIFEST_VERSION,
        id: ref.id,
        host: options.host,
        stamp,
        time: started.toISOString(),
        tags: summary.tags,
        ...(summary.parent ? { parent: summary.parent } : {}),
        sources: summary.sources,
        summary: manifestSummary(summary),
        entries,
      }));
    } catch (err) {
      // Nothing goes on after the run has failed: no more records, no new saves, and the saves
      // already started settle before the lock goes.
      scan?.stop();
      builder.close();
      // A failed save stops the scan; its own error, not "the scan was stopped", is the reason.
      const saveFailure = await queue.drain().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      if (err instanceof LocalIndexError) await cache.dropIndex(err.ref).catch(() => {});
      throw saveFailure ?? err;
    }
    const { written, columns } = built;
    await lock.ensureHeld();
    const upload = backend.put(ref.key, bodyFromBuffer(written.data), {
      createOnly: true,
      contentType: 'application/gzip',
    });
    // The local copy and index (what makes the next run fast) are written meanwhile; failing to
    // write them only makes the next run slower.
    const staged = cache
      .stage(ref, written.data, () => manifestIndex(written, columns))
      .catch(() => undefined);
    try {
      await upload;
    } catch (err) {
      await (await staged)?.discard().catch(() => {});
      throw err;
    }
    await (await staged)?.commit().catch(() => {});
    await dropSupersededIndexes(cache, parents, summary.sources).catch(() => {});
    await saving.content.finish(ref).catch(() => {});
    if (checkedStored) await recordCheck(cache, options.host, started).catch(() => {});
    summary.durationMs = clock.now().getTime() - started.getTime();
    return summary;
  } finally {
    await lock.release().catch(() => {
      // A lock we cannot delete goes stale on its own.
    });
  }
}

/**
 * Saves queued at most; past this the backup stops matching scan records until uploads catch up
 * (a waiting save costs some hundred bytes, a waiting record a few dozen).
 */
const SAVES_WAITING = 1024;

/** Small files are read whole into memory before upload: at most this much of them at once. */
const IN_FLIGHT_BYTES = 128 * 1024 * 1024;

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

/** Takes a shared lock, then lists; waits (saying why) while a prune holds an exclusive lock. */
async function lockForBackup(
  backend: Backend,
  options: BackupOptions,
  clock: Clock,
): Promise<{ lock: RepositoryLock; meta: MetaListing }> {
  const deadline = clock.now().getTime() + (options.lockWaitMs ?? 30 * 60_000);
  for (;;) {
    // The lock names the host folder: prune then keeps what this run may reuse (leftovers.ts).
    const lock = await RepositoryLock.acquire(backend, 'shared', 'backup', clock, {
      snapshotHost: options.host,
    });
    let meta: MetaListing;
    let blocking: Awaited<ReturnType<typeof liveExclusiveLocks>>;
    try {
      meta = await listMeta(backend);
      blocking = await liveExclusiveLocks(backend, meta.locks, clock.now());
    } catch (err) {
      await lock.release().catch(() => {});
      throw err;
    }
    if (blocking.length === 0) return { lock, meta };
    await lock.release();
    const holder = blocking[0]!;
    if (clock.now().getTime() >= deadline) throw lockedError('the repository', holder, clock.now());
    options.onEvent?.({
      type: 'waiting',
      reason: `the repository is locked by ${describeLock(holder, clock.now())}; waiting`,
    });
    await clock.sleep(LOCK_POLL_MS);
  }
}

function nameSources(sources: BackupSource[]): Array<BackupSource & { name: string }> {
  if (sources.length === 0)
    throw new UsageError('nothing to back up: give folders on the command line or "sources" in the config');
  const named = sources.map((source) => ({
    ...source,
    path: resolve(source.path),
    name: source.name ?? basename(resolve(source.path)),
  }));
  const seen = new Map<string, string>();
  for (const source of named) {
    if (!source.name || source.name === '/' || source.name.includes('/')) {
      throw new UsageError(`source ${source.path} needs a name (set "name" in the config)`);
    }
    const other = seen.get(source.name);
    if (other)
      throw new UsageError(
        `two sources are named "${source.name}" (${other} and ${source.path}); name one of them in the config`,
      );
    seen.set(source.name, source.path);
  }
  return named;
}

/** Errors that concern one file (it cannot be read), as opposed to the run (storage, resources). */
const RUN_WIDE_ERRNO = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'ENOSPC']);
function isFileReadError(err: unknown): boolean {
  if (isTwinvaultError(err)) return false;
  const { code, syscall } = (err ?? {}) as NodeJS.ErrnoException;
  return typeof syscall === 'string' && typeof code === 'string' && !RUN_WIDE_ERRNO.has(code);
}

function manifestSummary(summary: BackupSummary): SnapshotSummary {
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
