import { createHash } from 'node:crypto';
import { readlink } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { bodyFromBuffer } from '../backend/body.js';
import { compareKeys, isValidKey } from '../backend/keys.js';
import { type Clock, systemClock } from '../clock.js';
import { isTwinvaultError, UsageError } from '../errors.js';
import { decodeName } from '../fs/names.js';
import { FALLBACK_FOLDER, isValidHost, stampFor } from '../repository/layout.js';
import { LockedError, liveExclusiveLocks, RepositoryLock } from '../repository/locks.js';
import {
  type DirEntry,
  type Entry,
  type FileEntry,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestHeader,
  type SnapshotSummary,
  type SymlinkEntry,
} from '../repository/manifest.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { encodeManifest } from '../repository/manifest-codec.js';
import type { Repository } from '../repository/repository.js';
import { listMeta, type MetaListing, refFor } from '../repository/snapshots.js';
import { runPool } from '../util/pool.js';
import { RunContentStore } from './content-store.js';
import type { BackupEventHandler } from './events.js';
import { ChangedWhileReadingError, saveFile } from './file-saver.js';
import { IgnoreRules } from './ignore-rules.js';
import { loadParents } from './parents.js';
import { reason, type ScanItem, scanSource } from './scanner.js';

export interface BackupSource {
  path: string;
  name?: string;
  include?: string[];
  exclude?: string[];
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
  /** How long to wait for an exclusive lock (a prune) to go before giving up. */
  lockWaitMs?: number;
  onEvent?: BackupEventHandler;
}

export interface BackupSummary {
  id: string;
  host: string;
  stamp: string;
  time: string;
  parent: string | undefined;
  sources: Array<{ name: string; path: string }>;
  tags: string[];
  files: { new: number; changed: number; unchanged: number; skipped: number };
  dirs: number;
  symlinks: number;
  bytesTotal: number;
  bytesRead: number;
  bytesUploaded: number;
  durationMs: number;
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
  const { backend, config } = options.repository;
  if (!isValidHost(options.host)) {
    throw new UsageError(
      `"${options.host}" cannot be used as a host name (letters, digits, ".", "_" and "-")`,
    );
  }
  const sources = nameSources(options.sources);
  const cache = ManifestCache.forRepository(options.stateFolder, config.id);

  const { lock, meta } = await lockForBackup(options, clock);
  try {
    const hostSnapshots = meta.snapshots.filter((ref) => ref.host === options.host);
    const stamp = stampFor(started, (candidate) => hostSnapshots.some((ref) => ref.stamp === candidate));
    const parents = await loadParents(backend, cache, hostSnapshots, sources);
    const content = new RunContentStore(backend, cache, meta.snapshots);

    const summary: BackupSummary = {
      id: refFor(options.host, stamp).id,
      host: options.host,
      stamp,
      time: started.toISOString(),
      parent: parents.parent?.id,
      sources: sources.map(({ name, path }) => ({ name, path })),
      tags: options.tags ?? [],
      files: { new: 0, changed: 0, unchanged: 0, skipped: 0 },
      dirs: 0,
      symlinks: 0,
      bytesTotal: 0,
      bytesRead: 0,
      bytesUploaded: 0,
      durationMs: 0,
      skipped: [],
      notes: [],
    };
    const skip = (path: string, why: string) => {
      summary.skipped.push({ path, reason: why });
      summary.files.skipped++;
      onEvent({ type: 'skip', path, reason: why });
    };
    const note = (path: string, message: string) => {
      summary.notes.push({ path, message });
      onEvent({ type: 'note', path, message });
    };

    const items: ScanItem[] = [];
    for (const source of sources) {
      const rules = IgnoreRules.forSource(
        [...(options.exclude ?? []), ...(source.exclude ?? [])],
        source.include ?? [],
      );
      await scanSource(source.path, source.name, rules, { item: (item) => items.push(item), skip, note });
    }

    const entries: Entry[] = [];
    const toSave: Array<{ item: ScanItem; previous: FileEntry | undefined }> = [];
    const linkGroups = new Map<string, number>();
    for (const item of items) {
      const base = baseEntry(item);
      if (item.kind === 'dir') {
        entries.push({ ...base, type: 'dir' } satisfies DirEntry);
        summary.dirs++;
      } else if (item.kind === 'symlink') {
        try {
          entries.push(await symlinkEntry(item, base));
          summary.symlinks++;
        } catch (err) {
          skip(item.path, reason(err));
        }
      } else if (item.kind === 'special') {
        note(item.path, 'skipped: a socket, fifo or device is not backed up');
      } else {
        const previous = parents.files.get(item.pathBytes ?? item.path);
        if (previous && isUnchanged(previous, item)) {
          // Same ctime means same metadata too: the parent's entry (and its manifest line) is reused.
          const reusable =
            item.stat.nlink <= 1 && previous.linkGroup === undefined && sameMetadata(previous, item);
          const entry = reusable
            ? previous
            : withLinkGroup({ ...previous, ...base, ...changeFields(item), type: 'file' }, item, linkGroups);
          entries.push(entry);
          summary.files.unchanged++;
          summary.bytesTotal += entry.size;
          onEvent({
            type: 'file',
            path: item.path,
            status: 'unchanged',
            read: false,
            size: entry.size,
            uploaded: 0,
          });
        } else {
          toSave.push({ item, previous });
        }
      }
    }
    onEvent({
      type: 'scanned',
      files: toSave.length + summary.files.unchanged,
      dirs: summary.dirs,
      bytes: summary.bytesTotal + toSave.reduce((sum, { item }) => sum + item.stat.size, 0),
      toRead: toSave.length,
      bytesToRead: toSave.reduce((sum, { item }) => sum + item.stat.size, 0),
    });

    await runPool(toSave, options.concurrency ?? 16, async ({ item, previous }) => {
      try {
        const saved = await saveFile(
          backend,
          content,
          item.fsPath,
          contentKey(options.host, stamp, item),
          item.stat,
          item.path,
        );
        const settledItem = { ...item, stat: saved.stat };
        const entry: FileEntry = {
          ...baseEntry(settledItem),
          ...changeFields(settledItem),
          // "Racy clean" (as git calls it): a file changed within the timestamp granularity of
          // this read could change again without its times moving. Recording no ctime makes
          // the next run read it again.
          ...(isRacy(saved.stat, clock.now()) ? { ctime: '0' } : {}),
          type: 'file',
          size: saved.stat.size,
          sha256: saved.sha256,
          key: saved.key,
        };
        entries.push(withLinkGroup(entry, item, linkGroups));
        // Read again but with the same content (touched, or racy last time) is still unchanged.
        const status = !previous ? 'new' : previous.sha256 === saved.sha256 ? 'unchanged' : 'changed';
        summary.files[status]++;
        summary.bytesTotal += entry.size;
        summary.bytesRead += saved.bytesRead;
        summary.bytesUploaded += saved.bytesUploaded;
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
        else throw err; // storage failures (and anything unexpected) end the run: no manifest is written
      }
    });

    entries.sort((a, b) => compareKeys(a.path, b.path));
    const ref = refFor(options.host, stamp);
    const header: ManifestHeader = {
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
      entries: entries.length,
    };
    const manifest = await encodeManifest(header, entries);
    await lock.ensureHeld();
    await backend.put(ref.key, bodyFromBuffer(manifest), {
      createOnly: true,
      contentType: 'application/gzip',
    });
    await cache.store(ref, manifest).catch(() => {});
    await content.finish(ref).catch(() => {});
    summary.durationMs = clock.now().getTime() - started.getTime();
    return summary;
  } finally {
    await lock.release().catch(() => {
      // A lock we cannot delete goes stale on its own.
    });
  }
}

/** Takes a shared lock, then lists; waits (saying why) while a prune holds an exclusive lock. */
async function lockForBackup(
  options: BackupOptions,
  clock: Clock,
): Promise<{ lock: RepositoryLock; meta: MetaListing }> {
  const { backend } = options.repository;
  const deadline = clock.now().getTime() + (options.lockWaitMs ?? 30 * 60_000);
  for (;;) {
    const lock = await RepositoryLock.acquire(backend, 'shared', 'backup', clock);
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
    const why = `the repository is locked by ${holder.operation} on ${holder.host} (pid ${holder.pid}) since ${holder.created}`;
    if (clock.now().getTime() >= deadline)
      throw new LockedError(why, 'wait for it to finish, or remove a stale lock');
    options.onEvent?.({ type: 'waiting', reason: `${why}; waiting` });
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

function baseEntry(item: ScanItem) {
  return {
    path: item.path,
    ...(item.pathBytes ? { pathBytes: item.pathBytes } : {}),
    mode: item.stat.mode,
    mtime: item.stat.mtime,
    uid: item.stat.uid,
    gid: item.stat.gid,
  };
}

function changeFields(item: ScanItem) {
  return { ctime: item.stat.ctime, ino: item.stat.ino };
}

function isUnchanged(previous: FileEntry, item: ScanItem): boolean {
  return (
    previous.size === item.stat.size &&
    previous.mtime === item.stat.mtime &&
    previous.ctime === item.stat.ctime &&
    previous.ino === item.stat.ino
  );
}

/** Errors that concern one file (it cannot be read), as opposed to the run (storage, resources). */
const RUN_WIDE_ERRNO = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'ENOSPC']);
function isFileReadError(err: unknown): boolean {
  if (isTwinvaultError(err)) return false;
  const { code, syscall } = (err ?? {}) as NodeJS.ErrnoException;
  return typeof syscall === 'string' && typeof code === 'string' && !RUN_WIDE_ERRNO.has(code);
}

const RACY_WINDOW_MS = 2000;
function isRacy(stat: { mtime: string; ctime: string }, readAt: Date): boolean {
  const newest = Math.max(Number(stat.mtime.slice(0, -6) || 0), Number(stat.ctime.slice(0, -6) || 0));
  return newest >= readAt.getTime() - RACY_WINDOW_MS;
}

function sameMetadata(previous: FileEntry, item: ScanItem): boolean {
  return previous.mode === item.stat.mode && previous.uid === item.stat.uid && previous.gid === item.stat.gid;
}

function withLinkGroup(entry: FileEntry, item: ScanItem, groups: Map<string, number>): FileEntry {
  const { linkGroup: _dropped, ...rest } = entry;
  if (item.stat.nlink <= 1) return rest;
  const id = `${item.stat.dev}:${item.stat.ino}`;
  let group = groups.get(id);
  if (group === undefined) {
    group = groups.size + 1;
    groups.set(id, group);
  }
  return { ...rest, linkGroup: group };
}

async function symlinkEntry(item: ScanItem, base: ReturnType<typeof baseEntry>): Promise<SymlinkEntry> {
  const target = await readlink(item.fsPath, { encoding: 'buffer' });
  const { text, exact } = decodeName(target);
  return {
    ...base,
    type: 'symlink',
    target: text,
    ...(exact ? {} : { targetBytes: target.toString('base64') }),
  };
}

/** `<host>/<stamp>/<path>`, or a fallback key when the path cannot be an S3 key as it is. */
function contentKey(host: string, stamp: string, item: ScanItem): string {
  const natural = `${host}/${stamp}/${item.path}`;
  if (!item.pathBytes && isValidKey(natural)) return natural;
  const digest = createHash('sha256')
    .update(item.pathBytes ?? item.path)
    .digest('hex');
  return `${host}/${stamp}/${FALLBACK_FOLDER}/${digest}`;
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
