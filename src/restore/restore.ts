import { link, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { type Clock, systemClock } from '../clock.js';
import { isTwinvaultError, TwinvaultError } from '../errors.js';
import { checkHeaderIdentity } from '../repository/header-identity.js';
import type { DirEntry, Entry, FileEntry, SymlinkEntry } from '../repository/manifest.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import { decodeManifest } from '../repository/manifest-codec.js';
import type { Repository } from '../repository/repository.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import { HeapLimit } from '../util/heap-limit.js';
import { runPool } from '../util/pool.js';
import { cachedEntries } from './cached-manifest.js';
import { downloadVerified } from './file-writer.js';
import { DEFAULT_OVERWRITE, type OverwriteMode } from './overwrite.js';
import { checkNoEntryBelowNonFolder, safeSegments } from './safe-paths.js';
import { type ManifestDamage, salvageEntries } from './salvage-entries.js';
import { clearSetIdBits } from './setid.js';
import { atTarget, targetError } from './target-errors.js';
import { applyMetadata, prepareTarget, type RestoreAction, TargetWriter } from './target-writer.js';

export type { OverwriteMode } from './overwrite.js';
export type { RestoreAction } from './target-writer.js';

export interface RestoreOptions {
  repository: Repository;
  snapshot: SnapshotRef;
  target: string;
  /** Restore only these paths (and what lies below them), as `<source>/<path>`. */
  include?: string[];
  /** What to do with files already in the target (overwrite.ts); default keep-newer. */
  overwrite?: OverwriteMode;
  /** Restore set-uid and set-gid bits as the manifest has them (by default they are cleared). */
  keepSetid?: boolean;
  dryRun?: boolean;
  concurrency?: number;
  clock?: Clock;
  onEvent?: (event: RestoreEvent) => void;
  /**
   * Replicas to fetch an object from when the repository's copy is missing, unreadable or fails
   * its SHA-256: the restore still succeeds, and says so.
   */
  fallbacks?: Backend[];
  /**
   * This machine's manifest cache: when no copy of the manifest in the repository or a replica
   * reads in full, an intact cached copy serves (cached-manifest.ts says why that is safe), and
   * the restore says so.
   */
  localManifests?: ManifestCache;
  /**
   * Run once the files are known, before anything is written (archived content: archived.ts): may
   * stop the restore, or name per object key another backend to read it from.
   */
  prepareDownloads?: (backend: Backend, files: readonly FileEntry[]) => Promise<ReadonlyMap<string, Backend>>;
}

export type RestoreEvent =
  | { type: 'planned'; files: number; bytes: number }
  | { type: 'file'; path: string; action: RestoreAction; bytes: number }
  | { type: 'fallback'; path: string; key: string; from: string; reason: string }
  /** The manifest came from this machine's cache (`from`): the repository's copy failed. */
  | { type: 'cached-manifest'; key: string; from: string; reason: string };

export interface RestoreSummary {
  snapshot: string;
  target: string;
  dryRun: boolean;
  files: {
    /** Files written: new ones, and those that replaced a local file. */
    restored: number;
    /** Of `restored`, how many replaced a local file. */
    replaced: number;
    skippedExisting: number;
    skippedIdentical: number;
    /** Local files newer than the snapshot's version, kept (keep-newer): listed in `kept`. */
    keptNewer: number;
  };
  /** Each local file (or symlink) kept because it is newer than the snapshot's version. */
  kept: Array<{ path: string; type: Entry['type']; localTime: string; snapshotTime: string }>;
  /** Entries whose set-uid/set-gid bits were not restored (without keepSetid). */
  setIdCleared: string[];
  dirs: number;
  symlinks: number;
  bytesRestored: number;
  durationMs: number;
  /** Files whose content came from a replica, because the repository's copy failed. */
  fromReplica: Array<{ path: string; key: string; from: string; reason: string }>;
  /** The manifest could not be read in full: only what could be read was restored. */
  manifestDamage?: ManifestDamage;
  /** No copy of the manifest in the repository or a replica read in full: this machine's did. */
  manifestFromCache?: { key: string; from: string; reason: string };
  /** With dryRun: what would happen to each entry. */
  plan?: Array<{ path: string; type: Entry['type']; action: RestoreAction }>;
}

/**
 * Restores a snapshot, or part of it, into `target`. Every entry path is checked before anything
 * is written: nothing can land outside the target, nor be written through a symlink. File
 * content is verified against its SHA-256; modes, times (and owners, as root) are set after
 * content; folders last, deepest first, so writing into them does not disturb their times.
 */
export async function restore(options: RestoreOptions): Promise<RestoreSummary> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const { backend } = options.repository;
  const where = `snapshot ${options.snapshot.host}/${options.snapshot.stamp}`;
  const overwrite = options.overwrite ?? DEFAULT_OVERWRITE;
  const target = resolve(options.target);

  const includes = (options.include ?? []).map((path) => path.replace(/^\/+|\/+$/g, ''));
  const wanted = (entry: Entry) =>
    includes.length === 0 || includes.some((inc) => entry.path === inc || entry.path.startsWith(`${inc}/`));
  const manifestFrom: Array<{ path: string; key: string; from: string; reason: string }> = [];
  let manifestDamage: ManifestDamage | undefined;
  let manifestFromCache: RestoreSummary['manifestFromCache'];
  const entries = await readEntries(backend, options.snapshot, wanted, {
    fallbacks: options.fallbacks ?? [],
    localManifests: options.localManifests,
    usedFallback: (used) => {
      const event = { path: '', key: options.snapshot.key, ...used };
      manifestFrom.push(event);
      options.onEvent?.({ type: 'fallback', ...event });
    },
    usedCache: (used) => {
      manifestFromCache = { key: options.snapshot.key, ...used };
      options.onEvent?.({ type: 'cached-manifest', ...manifestFromCache });
    },
    damaged: (damage) => {
      manifestDamage = damage;
    },
  });
  if (includes.length > 0 && entries.length === 0) {
    throw new TwinvaultError(
      'NOT_FOUND',
      `nothing in ${where} matches ${includes.map((i) => `"${i}"`).join(', ')}`,
      {
        hint: `list its contents with "twinvault ls ${options.snapshot.host}/${options.snapshot.stamp}"`,
      },
    );
  }
  // Every path is checked before anything is written; segments are worked out again where used,
  // rather than held for every entry of a large snapshot.
  for (const entry of entries) safeSegments(entry, where);
  checkNoEntryBelowNonFolder(entries, where);
  const setIdCleared = options.keepSetid ? [] : clearSetIdBits(entries);
  const segmentsOf = (entry: Entry) => safeSegments(entry, where);

  const summary: RestoreSummary = {
    snapshot: options.snapshot.id,
    target,
    dryRun: options.dryRun ?? false,
    files: { restored: 0, replaced: 0, skippedExisting: 0, skippedIdentical: 0, keptNewer: 0 },
    kept: [],
    setIdCleared,
    dirs: 0,
    symlinks: 0,
    bytesRestored: 0,
    durationMs: 0,
    fromReplica: manifestFrom,
    ...(manifestDamage ? { manifestDamage } : {}),
    ...(manifestFromCache ? { manifestFromCache } : {}),
  };
  const files = entries.filter((entry): entry is FileEntry => entry.type === 'file');
  const readFrom = (await options.prepareDownloads?.(backend, files)) ?? new Map<string, Backend>();
  options.onEvent?.({
    type: 'planned',
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
  });
  const writer = new TargetWriter(Buffer.from(target), overwrite, summary.dryRun);
  await prepareTarget(target, summary.dryRun);
  const plan: NonNullable<RestoreSummary['plan']> = [];
  const record = (entry: Entry, action: RestoreAction, bytes = 0, localMtimeNs?: bigint) => {
    if (summary.dryRun) plan.push({ path: entry.path, type: entry.type, action });
    if (action === 'keep-newer') {
      summary.kept.push({
        path: entry.path,
        type: entry.type,
        localTime: isoTime(localMtimeNs ?? 0n),
        snapshotTime: isoTime(BigInt(entry.mtime)),
      });
    }
    if (entry.type === 'file') {
      const count = summary.files;
      if (action === 'restore' || action === 'replace') count.restored++;
      if (action === 'replace') count.replaced++;
      else if (action === 'skip-existing') count.skippedExisting++;
      else if (action === 'skip-identical') count.skippedIdentical++;
      else if (action === 'keep-newer') count.keptNewer++;
      summary.bytesRestored += bytes;
      options.onEvent?.({ type: 'file', path: entry.path, action, bytes });
    }
  };
  const writes = (action: RestoreAction) => action === 'restore' || action === 'replace';

  const dirs = entries.filter((entry): entry is DirEntry => entry.type === 'dir');
  for (const dir of dirs) {
    await writer.ensureDir(segmentsOf(dir), dir.path);
    summary.dirs++;
    record(dir, 'restore');
  }

  // Hard links: the first file of each group is downloaded; the others link to it afterwards.
  const firstOfGroup = new Map<number, FileEntry>();
  const linked: FileEntry[] = [];
  const downloads = files.filter((file) => {
    if (file.linkGroup === undefined) return true;
    if (firstOfGroup.has(file.linkGroup)) {
      linked.push(file);
      return false;
    }
    firstOfGroup.set(file.linkGroup, file);
    return true;
  });
  // Files this run wrote and verified: the only ones another member of a hard-link group may be
  // linked to (a file already in the target, or one with other content, is never linked to).
  const verified = new Set<FileEntry>();
  const heap = new HeapLimit();
  const restoreFile = async (file: FileEntry) => {
    heap.check();
    const destination = await writer.prepareFile(segmentsOf(file), file);
    const { action } = destination;
    if (!writes(action)) return record(file, action, 0, destination.localMtimeNs);
    if (summary.dryRun) return record(file, action, file.size);
    const bytes = await downloadWithFallback(
      readFrom.get(file.key) ?? backend,
      options.fallbacks ?? [],
      file,
      destination.path,
      (used) => {
        const event = { path: file.path, key: file.key, ...used };
        summary.fromReplica.push(event);
        options.onEvent?.({ type: 'fallback', ...event });
      },
    ).catch((err: unknown) => {
      throw targetError(err, 'write', destination.path);
    });
    verified.add(file);
    record(file, action, bytes);
  };
  await runPool(downloads, options.concurrency ?? 16, restoreFile);
  for (const file of linked) {
    const first = firstOfGroup.get(file.linkGroup!)!;
    if (!verified.has(first) || first.sha256 !== file.sha256 || first.size !== file.size) {
      await restoreFile(file);
      continue;
    }
    const destination = await writer.prepareFile(segmentsOf(file), file);
    if (!writes(destination.action) || summary.dryRun) {
      record(file, destination.action, 0, destination.localMtimeNs);
      continue;
    }
    await atTarget('link', destination.path, async () => {
      if (destination.exists) await unlink(destination.path);
      await link(writer.pathOf(segmentsOf(first)), destination.path);
    });
    record(file, destination.action, 0);
  }

  for (const entry of entries.filter((e): e is SymlinkEntry => e.type === 'symlink')) {
    const { action, localMtimeNs } = await writer.placeSymlink(segmentsOf(entry), entry);
    summary.symlinks++;
    record(entry, action, 0, localMtimeNs);
  }

  if (!summary.dryRun) {
    for (const dir of [...dirs].reverse()) {
      const path = writer.pathOf(segmentsOf(dir));
      await atTarget('set the metadata of', path, () => applyMetadata(path, dir));
    }
  }
  if (summary.dryRun) summary.plan = plan;
  // Files finish in any order; the list of what was kept reads best in path order.
  summary.kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  summary.durationMs = clock.now().getTime() - started.getTime();
  return summary;
}

/** The snapshot's entries, from the repository's manifest, or a replica's when that one fails. */
async function readEntries(
  backend: Backend,
  snapshot: SnapshotRef,
  wanted: (entry: Entry) => boolean,
  copies: {
    fallbacks: Backend[];
    localManifests: ManifestCache | undefined;
    usedFallback: (used: { from: string; reason: string }) => void;
    usedCache: (used: { from: string; reason: string }) => void;
    damaged: (damage: ManifestDamage) => void;
  },
): Promise<Entry[]> {
  const { fallbacks, localManifests } = copies;
  const read = async (from: Backend) => {
    const where = `${from.location}/${snapshot.key}`;
    const { header, entries } = await decodeManifest(await from.get(snapshot.key), where);
    checkHeaderIdentity(header, snapshot, where);
    const kept: Entry[] = [];
    for await (const entry of entries) if (wanted(entry)) kept.push(entry);
    return kept;
  };
  try {
    return await read(backend);
  } catch (err) {
    if (!isTwinvaultError(err)) throw err;
    for (const fallback of fallbacks) {
      try {
        const entries = await read(fallback);
        copies.usedFallback({ from: fallback.location, reason: err.message });
        return entries;
      } catch {
        // the next replica, or the first error
      }
    }
    if (err.code !== 'INTEGRITY') throw err;
    const cached = localManifests && (await cachedEntries(localManifests, snapshot, wanted));
    if (cached) {
      copies.usedCache({ from: cached.from, reason: err.message });
      return cached.entries;
    }
    // No copy reads in full: restore what can be read, and say what could not (salvage-entries.ts).
    const salvaged = await salvageEntries([backend, ...fallbacks], snapshot, wanted, err);
    copies.damaged(salvaged.damage);
    return salvaged.entries;
  }
}

/**
 * The repository's copy first; when it is missing, cannot be read or fails its SHA-256, each
 * replica's in turn. A local problem (the target folder) is no reason to try a replica.
 */
async function downloadWithFallback(
  backend: Backend,
  fallbacks: Backend[],
  file: FileEntry,
  destination: Buffer,
  usedFallback: (used: { from: string; reason: string }) => void,
): Promise<number> {
  try {
    return await downloadVerified(backend, file, destination);
  } catch (err) {
    if (fallbacks.length === 0 || !isTwinvaultError(err) || err.code === 'LOCAL_PATH') throw err;
    for (const [index, fallback] of fallbacks.entries()) {
      try {
        const bytes = await downloadVerified(fallback, file, destination);
        usedFallback({ from: fallback.location, reason: err.message });
        return bytes;
      } catch (again) {
        if (index === fallbacks.length - 1 || !isTwinvaultError(again) || again.code === 'LOCAL_PATH')
          throw err;
      }
    }
    throw err;
  }
}

/** A time for the summary; one no Date can hold (a forged manifest's) is shown as it is. */
function isoTime(ns: bigint): string {
  const date = new Date(Number(ns / 1_000_000n));
  return Number.isNaN(date.getTime()) ? `${ns} ns` : date.toISOString();
}
