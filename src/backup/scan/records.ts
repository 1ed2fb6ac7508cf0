import type { Stats } from 'node:fs';
import { type FileKind, type FileStat, msToNs } from '../../fs/file-stat.js';
import type { Entry } from '../../repository/manifest.js';

/**
 * What a scan thread reports of each thing it finds: three strings, sent in flat batches (so a
 * hundred thousand files cross threads as a few strings, not as many objects).
 *   path       `<source name>/<relative path>` (a lossy rendering when pathBytes is set)
 *   pathBytes  base64 of the exact path bytes when they are not valid UTF-8, else ""
 *   stat       see statText
 */
export const RECORD_FIELDS = 3;

const CODE_KIND: Record<string, FileKind> = { f: 'file', d: 'dir', l: 'symlink', s: 'special' };

/**
 * An lstat as text: `kind/mode/mtime/uid/gid/size/ctime/ino/nlink/dev`, times in nanoseconds. The
 * order is chosen so that an entry's signature (below) is a prefix of it.
 */
export function statText(info: Stats): string {
  const kind = info.isFile() ? 'f' : info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : 's';
  return `${kind}/${info.mode & 0o7777}/${msToNs(info.mtimeMs)}/${info.uid}/${info.gid}/${info.size}/${msToNs(info.ctimeMs)}/${info.ino}/${info.nlink}/${info.dev}`;
}

export function parseStatText(text: string): FileStat {
  const [kind, mode, mtime, uid, gid, size, ctime, ino, nlink, dev] = text.split('/');
  return {
    kind: CODE_KIND[kind!]!,
    size: Number(size),
    mode: Number(mode),
    uid: Number(uid),
    gid: Number(gid),
    mtime: mtime!,
    ctime: ctime!,
    ino: Number(ino),
    dev: Number(dev),
    nlink: Number(nlink),
  };
}

/** The size field of a stat text. */
export function sizeOf(text: string): number {
  let at = 0;
  for (let field = 0; field < 5; field++) at = text.indexOf('/', at) + 1;
  return Number(text.slice(at, text.indexOf('/', at)));
}

/**
 * What decides whether a parent's manifest line can be carried into the new snapshot unchanged,
 * as a prefix of the scanned stat text (`kind/mode/mtime/uid/gid`, and for files also
 * `/size/ctime/ino`). "" for entries never carried over as they are: symlinks (read again) and
 * hard links (renumbered). A file without a link group had one name; adding or removing a name
 * changes ctime, so an equal ctime means it still has one.
 */
export function entrySignature(entry: Entry): string {
  if (entry.type === 'file' && entry.linkGroup === undefined)
    return `f/${entry.mode}/${entry.mtime}/${entry.uid}/${entry.gid}/${entry.size}/${entry.ctime}/${entry.ino}`;
  if (entry.type === 'dir') return `d/${entry.mode}/${entry.mtime}/${entry.uid}/${entry.gid}`;
  return '';
}

/** Whether a scanned stat text carries `signature` (a whole-field prefix of it). */
export function matchesSignature(stat: string, signature: string): boolean {
  return (
    signature !== '' &&
    stat.length > signature.length &&
    stat.charCodeAt(signature.length) === 0x2f &&
    stat.startsWith(signature)
  );
}

/** How entries are looked up across snapshots: by exact bytes where a name has them. */
export function lookupKey(path: string, pathBytes: string | undefined): string {
  return pathBytes ? `\0${pathBytes}` : path;
}
