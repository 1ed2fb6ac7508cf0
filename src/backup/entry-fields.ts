import { createHash } from 'node:crypto';
import { readlink } from 'node:fs/promises';
import { isValidKey } from '../backend/keys.js';
import type { FileStat } from '../fs/file-stat.js';
import { decodeName } from '../fs/names.js';
import { FALLBACK_FOLDER } from '../repository/layout.js';
import type { FileEntry, SymlinkEntry } from '../repository/manifest.js';

/** One thing a scan found, as the backup handles it when it cannot simply be carried over. */
export interface ScanItem {
  kind: FileStat['kind'];
  /** The absolute path: text, or bytes when a name on the way is not valid UTF-8. */
  fsPath: string | Buffer;
  /** `<source name>/<relative path>` (a lossy rendering when pathBytes is set). */
  path: string;
  /** base64 of the exact path bytes, when they are not valid UTF-8. */
  pathBytes?: string;
  stat: FileStat;
}

export function baseEntry(item: ScanItem) {
  return {
    path: item.path,
    ...(item.pathBytes ? { pathBytes: item.pathBytes } : {}),
    mode: item.stat.mode,
    mtime: item.stat.mtime,
    uid: item.stat.uid,
    gid: item.stat.gid,
  };
}

export function changeFields(item: ScanItem) {
  return { ctime: item.stat.ctime, ino: item.stat.ino };
}

/** Same size, mtime, ctime and inode as in the parent: the content is not read again. */
export function isUnchanged(previous: FileEntry, item: ScanItem): boolean {
  return (
    previous.size === item.stat.size &&
    previous.mtime === item.stat.mtime &&
    previous.ctime === item.stat.ctime &&
    previous.ino === item.stat.ino
  );
}

export function sameMetadata(previous: FileEntry, item: ScanItem): boolean {
  return previous.mode === item.stat.mode && previous.uid === item.stat.uid && previous.gid === item.stat.gid;
}

/** Hard links (more than one name for an inode) share a group number within a snapshot. */
export function withLinkGroup(entry: FileEntry, item: ScanItem, groups: Map<string, number>): FileEntry {
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

export async function symlinkEntry(item: ScanItem): Promise<SymlinkEntry> {
  const target = await readlink(item.fsPath, { encoding: 'buffer' });
  const { text, exact } = decodeName(target);
  return {
    ...baseEntry(item),
    type: 'symlink',
    target: text,
    ...(exact ? {} : { targetBytes: target.toString('base64') }),
  };
}

/**
 * `<host>/<stamp>/<path>`, or a fallback key when the path cannot be an S3 key as it is. A source
 * named like the fallback folder gets fallback keys throughout: its natural keys would share that
 * folder, and a file named like another file's digest would take (and overwrite) its key.
 */
export function contentKey(host: string, stamp: string, item: ScanItem): string {
  const natural = `${host}/${stamp}/${item.path}`;
  const inFallbackFolder = item.path.startsWith(`${FALLBACK_FOLDER}/`);
  if (!item.pathBytes && !inFallbackFolder && isValidKey(natural)) return natural;
  const digest = createHash('sha256')
    .update(item.pathBytes ?? item.path)
    .digest('hex');
  return `${host}/${stamp}/${FALLBACK_FOLDER}/${digest}`;
}

const RACY_WINDOW_MS = 2000;
/**
 * "Racy clean" (as git calls it): a file changed within the timestamp granularity of its read
 * could change again without its times moving. Such a file gets no ctime, so the next run reads it.
 */
export function isRacy(stat: { mtime: string; ctime: string }, readAt: Date): boolean {
  const newest = Math.max(Number(stat.mtime.slice(0, -6) || 0), Number(stat.ctime.slice(0, -6) || 0));
  return newest >= readAt.getTime() - RACY_WINDOW_MS;
}
