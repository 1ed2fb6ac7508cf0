import type { BigIntStats } from 'node:fs';
import {
  chmod,
  lchown,
  lstat,
  lutimes,
  mkdir,
  readlink,
  rm,
  stat,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { IntegrityError, LocalPathError } from '../errors.js';
import { SLASH } from '../fs/names.js';
import type { DirEntry, FileEntry, SymlinkEntry } from '../repository/manifest.js';
import { hasContent, nsToSeconds } from './file-writer.js';
import { decideOverwrite, type ExistingAction, type OverwriteMode } from './overwrite.js';
import { atTarget, targetError } from './target-errors.js';

const RUNNING_AS_ROOT = process.getuid?.() === 0;

/** What the restore does with one entry: writes it anew, or what it does with the file in the way. */
export type RestoreAction = 'restore' | ExistingAction;

export interface FileDestination {
  action: RestoreAction;
  path: Buffer;
  /** A regular file stands there (it is replaced by a rename, or unlinked for a hard link). */
  exists: boolean;
  /** The local file's modification time, when one stands there. */
  localMtimeNs?: bigint;
}

/**
 * Creates the restore's target folder; a file standing at its place, or a folder the user may
 * not create, is a clear error (even in a dry run, which then creates nothing).
 */
export async function prepareTarget(target: string, dryRun: boolean): Promise<void> {
  // Followed if a symlink: a target given as a link to a folder is the user's own choice.
  const info = await atTarget('use the restore target', target, () =>
    stat(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    }),
  );
  if (info?.isDirectory()) return;
  if (info !== undefined) {
    throw new LocalPathError(`cannot restore into ${target}: it is a file, not a folder`, {
      hint: 'give --target a folder (it is created if missing)',
    });
  }
  if (!dryRun) await atTarget('create the restore target', target, () => mkdir(target, { recursive: true }));
}

/** All writing below the target goes through here, which refuses to follow symlinks. */
export class TargetWriter {
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
      const info = await atTarget('read', path, () => lstatOrUndefined(path));
      if (info === undefined) {
        if (!this.dryRun) {
          try {
            await mkdir(path);
            this.createdDirs.add(id);
          } catch (err) {
            // Another file of this run, restored in parallel, made it first: check it again.
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
              throw targetError(err, 'create folder', path);
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
  async prepareFile(segments: Buffer[], file: FileEntry): Promise<FileDestination> {
    await this.ensureDir(segments.slice(0, -1), file.path);
    const path = this.pathOf(segments);
    const fresh = this.createdDirs.has(this.pathOf(segments.slice(0, -1)).toString('latin1'));
    const existing = fresh ? undefined : await atTarget('read', path, () => lstatOrUndefined(path));
    if (!existing) return { action: 'restore', path, exists: false };
    if (existing.isDirectory() && this.overwrite !== 'never') {
      throw new LocalPathError(
        `cannot restore file ${JSON.stringify(file.path)}: a folder stands at ${path.toString()}`,
        { hint: 'move the folder away, or restore into another target folder' },
      );
    }
    const action = await decideOverwrite({
      mode: this.overwrite,
      localMtimeNs: existing.mtimeNs,
      snapshotMtimeNs: mtimeOf(file),
      sameContent: async () =>
        existing.isFile() && Number(existing.size) === file.size && (await hasContent(path, file)),
    });
    const found = { path, exists: existing.isFile(), localMtimeNs: existing.mtimeNs };
    if (action === 'skip-identical' && !this.dryRun) {
      await atTarget('set the metadata of', path, () => applyMetadata(path, file));
    }
    // A symlink is removed, never written through; a file is replaced by a verified copy.
    if (action === 'replace' && !this.dryRun && !existing.isFile()) {
      await atTarget('remove', path, () => unlink(path));
    }
    return { action, ...found };
  }

  async placeSymlink(
    segments: Buffer[],
    entry: SymlinkEntry,
  ): Promise<{ action: RestoreAction; localMtimeNs?: bigint }> {
    await this.ensureDir(segments.slice(0, -1), entry.path);
    const path = this.pathOf(segments);
    const target = entry.targetBytes ? Buffer.from(entry.targetBytes, 'base64') : Buffer.from(entry.target);
    const existing = await atTarget('read', path, () => lstatOrUndefined(path));
    if (existing) {
      if (existing.isDirectory() && this.overwrite !== 'never') {
        throw new LocalPathError(
          `cannot restore symlink ${JSON.stringify(entry.path)}: a folder stands at ${path.toString()}`,
          { hint: 'move the folder away, or restore into another target folder' },
        );
      }
      const action = await decideOverwrite({
        mode: this.overwrite,
        localMtimeNs: existing.mtimeNs,
        snapshotMtimeNs: mtimeOf(entry),
        sameContent: async () =>
          existing.isSymbolicLink() && (await readlink(path, { encoding: 'buffer' })).equals(target),
      });
      if (action !== 'replace') return { action, localMtimeNs: existing.mtimeNs };
      if (!this.dryRun) await atTarget('remove', path, () => rm(path, { recursive: false, force: true }));
    }
    const action = existing ? 'replace' : 'restore';
    if (this.dryRun) return { action };
    await atTarget('create symlink', path, () => symlink(target, path));
    if (RUNNING_AS_ROOT) await lchown(path, entry.uid, entry.gid).catch(() => {});
    const mtime = nsToSeconds(entry.mtime);
    await lutimes(path, mtime, mtime).catch(() => {});
    return { action };
  }
}

/** Owner (as root, as tar and rsync do), mode and time, in that order: chown clears set-id bits. */
export async function applyMetadata(path: Buffer, entry: FileEntry | DirEntry): Promise<void> {
  if (RUNNING_AS_ROOT) await lchown(path, entry.uid, entry.gid);
  await chmod(path, entry.mode);
  const mtime = nsToSeconds(entry.mtime);
  await utimes(path, mtime, mtime);
}

/** An entry's time from its manifest; a forged one that is no number is refused, not a crash. */
function mtimeOf(entry: FileEntry | SymlinkEntry): bigint {
  try {
    return BigInt(entry.mtime);
  } catch {
    throw new IntegrityError(
      `refusing to restore ${JSON.stringify(entry.path)}: its time in the manifest (${JSON.stringify(entry.mtime)}) is not a number`,
      { hint: 'the manifest is damaged or was tampered with' },
    );
  }
}

async function lstatOrUndefined(path: Buffer | string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
