import type { BigIntStats } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  readlink,
  rm,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { type Clock, systemClock } from '../clock.js';
import { IntegrityError, isTwinvaultError, LocalPathError, TwinvaultError } from '../errors.js';
import { SLASH } from '../fs/names.js';
import type { DirEntry, Entry, FileEntry, SymlinkEntry } from '../repository/manifest.js';
import { decodeManifest } from '../repository/manifest-codec.js';
import type { Repository } from '../repository/repository.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import { HeapLimit } from '../util/heap-limit.js';
import { runPool } from '../util/pool.js';
import { downloadVerified, hasContent, nsToSeconds } from './file-writer.js';
import { checkNoEntryBelowNonFolder, safeSegments } from './safe-paths.js';
import { type ManifestDamage, salvageEntries } from './salvage-entries.js';

export type OverwriteMode = 'never' | 'if-changed' | 'always';

export interface RestoreOptions {
  repository: Repository;
  snapshot: SnapshotRef;
  target: string;
  /** Restore only these paths (and what lies below them), as `<source>/<path>`. */
  include?: string[];
  overwrite?: OverwriteMode;
  dryRun?: boolean;
  concurrency?: number;
  clock?: Clock;
  onEvent?: (event: RestoreEvent) => void;
  /**
   * Replicas to fetch an object from when the repository's copy is missing, unreadable or fails
   * its SHA-256: the restore still succeeds, and says so.
   */
  fallbacks?: Backend[];
}

export type RestoreAction = 'restore' | 'skip-existing' | 'skip-identical';

export type RestoreEvent =
  | { type: 'planned'; files: number; bytes: number }
  | { type: 'file'; path: string; action: RestoreAction; bytes: number }
  | { type: 'fallback'; path: string; key: string; from: string; reason: string };

export interface RestoreSummary {
  snapshot: string;
  target: string;
  dryRun: boolean;
  files: { restored: number; skippedExisting: number; skippedIdentical: number };
  dirs: number;
  symlinks: number;
  bytesRestored: number;
  durationMs: number;
  /** Files whose content came from a replica, because the repository's copy failed. */
  fromReplica: Array<{ path: string; key: string; from: string; reason: string }>;
  /** The manifest could not be read in full: only what could be read was restored. */
  manifestDamage?: ManifestDamage;
  /** With dryRun: what would happen to each entry. */
  plan?: Array<{ path: string; type: Entry['type']; action: RestoreAction }>;
}

const RUNNING_AS_ROOT = process.getuid?.() === 0;

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
  const overwrite = options.overwrite ?? 'if-changed';
  const target = resolve(options.target);

  const includes = (options.include ?? []).map((path) => path.replace(/^\/+|\/+$/g, ''));
  const wanted = (entry: Entry) =>
    includes.length === 0 || includes.some((inc) => entry.path === inc || entry.path.startsWith(`${inc}/`));
  const manifestFrom: Array<{ path: string; key: string; from: string; reason: string }> = [];
  let manifestDamage: ManifestDamage | undefined;
  const entries = await readEntries(
    backend,
    options.fallbacks ?? [],
    options.snapshot,
    wanted,
    (used) => {
      const event = { path: '', key: options.snapshot.key, ...used };
      manifestFrom.push(event);
      options.onEvent?.({ type: 'fallback', ...event });
    },
    (damage) => {
      manifestDamage = damage;
    },
  );
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
  const segmentsOf = (entry: Entry) => safeSegments(entry, where);

  const summary: RestoreSummary = {
    snapshot: options.snapshot.id,
    target,
    dryRun: options.dryRun ?? false,
    files: { restored: 0, skippedExisting: 0, skippedIdentical: 0 },
    dirs: 0,
    symlinks: 0,
    bytesRestored: 0,
    durationMs: 0,
    fromReplica: manifestFrom,
    ...(manifestDamage ? { manifestDamage } : {}),
  };
  const files = entries.filter((entry): entry is FileEntry => entry.type === 'file');
  options.onEvent?.({
    type: 'planned',
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
  });
  const writer = new TargetWriter(Buffer.from(target), overwrite, summary.dryRun);
  if (!summary.dryRun) await mkdir(target, { recursive: true });
  const plan: NonNullable<RestoreSummary['plan']> = [];
  const record = (entry: Entry, action: RestoreAction, bytes = 0) => {
    if (summary.dryRun) plan.push({ path: entry.path, type: entry.type, action });
    if (entry.type === 'file') {
      if (action === 'restore') summary.files.restored++;
      else if (action === 'skip-existing') summary.files.skippedExisting++;
      else summary.files.skippedIdentical++;
      summary.bytesRestored += bytes;
      options.onEvent?.({ type: 'file', path: entry.path, action, bytes });
    }
  };

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
    if (destination.action !== 'restore') return record(file, destination.action);
    if (summary.dryRun) return record(file, 'restore', file.size);
    const bytes = await downloadWithFallback(
      backend,
      options.fallbacks ?? [],
      file,
      destination.path,
      (used) => {
        const event = { path: file.path, key: file.key, ...used };
        summary.fromReplica.push(event);
        options.onEvent?.({ type: 'fallback', ...event });
      },
    );
    verified.add(file);
    record(file, 'restore', bytes);
  };
  await runPool(downloads, options.concurrency ?? 16, restoreFile);
  for (const file of linked) {
    const first = firstOfGroup.get(file.linkGroup!)!;
    if (!verified.has(first) || first.sha256 !== file.sha256 || first.size !== file.size) {
      await restoreFile(file);
      continue;
    }
    const destination = await writer.prepareFile(segmentsOf(file), file);
    if (destination.action !== 'restore' || summary.dryRun) {
      record(file, destination.action);
      continue;
    }
    if (destination.exists) await unlink(destination.path);
    await link(writer.pathOf(segmentsOf(first)), destination.path);
    record(file, 'restore', 0);
  }

  for (const entry of entries.filter((e): e is SymlinkEntry => e.type === 'symlink')) {
    const action = await writer.placeSymlink(segmentsOf(entry), entry);
    summary.symlinks++;
    record(entry, action);
  }

  if (!summary.dryRun) {
    for (const dir of [...dirs].reverse()) await applyMetadata(writer.pathOf(segmentsOf(dir)), dir);
  }
  if (summary.dryRun) summary.plan = plan;
  summary.durationMs = clock.now().getTime() - started.getTime();
  return summary;
}

/** The snapshot's entries, from the repository's manifest, or a replica's when that one fails. */
async function readEntries(
  backend: Backend,
  fallbacks: Backend[],
  snapshot: SnapshotRef,
  wanted: (entry: Entry) => boolean,
  usedFallback: (used: { from: string; reason: string }) => void,
  damaged: (damage: ManifestDamage) => void = () => {},
): Promise<Entry[]> {
  const read = async (from: Backend) => {
    const { entries } = await decodeManifest(
      await from.get(snapshot.key),
      `${from.location}/${snapshot.key}`,
    );
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
        usedFallback({ from: fallback.location, reason: err.message });
        return entries;
      } catch {
        // the next replica, or the first error
      }
    }
    if (err.code !== 'INTEGRITY') throw err;
    // No copy reads in full: restore what can be read, and say what could not (salvage-entries.ts).
    const salvaged = await salvageEntries([backend, ...fallbacks], snapshot, wanted, err);
    damaged(salvaged.damage);
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

/** All writing below the target goes through here, which refuses to follow symlinks. */
class TargetWriter {
  private readonly verifiedDirs = new Set<string>();
  /** Folders this run created: nothing can stand in them that the run did not put there. */
  private readonly createdDirs = new Set<string>();

  constructor(
    private readonly root: Buffer,
    private readonly overwrite: OverwriteMode,
    private readonly dryRun: boolean,
  ) {}

  pathOf(segments: Buffer[]): Buffer {
    return Buffer.concat([this.root, ...segments.flatMap((segment) => [SLASH, segment])]);
  }

  /** Creates the folder and every missing parent; an existing symlink or file on the way is refused. */
  async ensureDir(segments: Buffer[], display: string): Promise<void> {
    for (let depth = 1; depth <= segments.length; depth++) {
      const path = this.pathOf(segments.slice(0, depth));
      const id = path.toString('latin1');
      if (this.verifiedDirs.has(id)) continue;
      const info = await lstatOrUndefined(path);
      if (info === undefined) {
        if (!this.dryRun) {
          try {
            await mkdir(path);
            this.createdDirs.add(id);
          } catch (err) {
            // Another file of this run, restored in parallel, made it first: check it again.
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
            depth--;
            continue;
          }
        }
      } else if (info.isSymbolicLink()) {
        throw new IntegrityError(
          `refusing to restore ${JSON.stringify(display)}: ${path.toString()} is a symlink, and restore never writes through one`,
        );
      } else if (!info.isDirectory()) {
        throw new LocalPathError(
          `cannot restore ${JSON.stringify(display)}: ${path.toString()} exists and is not a folder`,
          {
            hint: 'move it away, or restore into another target folder',
          },
        );
      }
      this.verifiedDirs.add(id);
    }
  }

  /** Decides what to do with a file's destination, clearing the way when it is to be written. */
  async prepareFile(
    segments: Buffer[],
    file: FileEntry,
  ): Promise<{ action: RestoreAction; path: Buffer; exists: boolean }> {
    await this.ensureDir(segments.slice(0, -1), file.path);
    const path = this.pathOf(segments);
    const fresh = this.createdDirs.has(this.pathOf(segments.slice(0, -1)).toString('latin1'));
    const existing = fresh ? undefined : await lstatOrUndefined(path);
    if (existing) {
      if (this.overwrite === 'never') return { action: 'skip-existing', path, exists: true };
      if (
        this.overwrite === 'if-changed' &&
        existing.isFile() &&
        Number(existing.size) === file.size &&
        (await hasContent(path, file))
      ) {
        if (!this.dryRun) await applyMetadata(path, file);
        return { action: 'skip-identical', path, exists: true };
      }
      if (existing.isDirectory()) {
        throw new LocalPathError(
          `cannot restore file ${JSON.stringify(file.path)}: a folder stands at ${path.toString()}`,
        );
      }
      // A symlink is removed, never written through; a file is replaced by a verified copy.
      if (!this.dryRun && !existing.isFile()) await unlink(path);
      return { action: 'restore', path, exists: existing.isFile() };
    }
    return { action: 'restore', path, exists: false };
  }

  async placeSymlink(segments: Buffer[], entry: SymlinkEntry): Promise<RestoreAction> {
    await this.ensureDir(segments.slice(0, -1), entry.path);
    const path = this.pathOf(segments);
    const target = entry.targetBytes ? Buffer.from(entry.targetBytes, 'base64') : Buffer.from(entry.target);
    const existing = await lstatOrUndefined(path);
    if (existing) {
      if (this.overwrite === 'never') return 'skip-existing';
      if (existing.isSymbolicLink() && (await readlink(path, { encoding: 'buffer' })).equals(target))
        return 'skip-identical';
      if (!this.dryRun) await rm(path, { recursive: false, force: true });
    }
    if (this.dryRun) return 'restore';
    await symlink(target, path);
    if (RUNNING_AS_ROOT) await lchown(path, entry.uid, entry.gid).catch(() => {});
    const mtime = nsToSeconds(entry.mtime);
    await lutimes(path, mtime, mtime).catch(() => {});
    return 'restore';
  }
}

async function applyMetadata(path: Buffer, entry: FileEntry | DirEntry): Promise<void> {
  if (RUNNING_AS_ROOT) await lchown(path, entry.uid, entry.gid);
  await chmod(path, entry.mode);
  const mtime = nsToSeconds(entry.mtime);
  await utimes(path, mtime, mtime);
}

async function lstatOrUndefined(path: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
