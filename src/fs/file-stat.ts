import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';

export type FileKind = 'file' | 'dir' | 'symlink' | 'special';

/**
 * What twinvault keeps of an lstat, small (a scan may hold a million): times as nanosecond
 * strings (what manifests store), the rest as numbers.
 */
export interface FileStat {
  kind: FileKind;
  size: number;
  /** Permission bits (the 0o7777 part of st_mode). */
  mode: number;
  uid: number;
  gid: number;
  mtime: string;
  ctime: string;
  ino: number;
  dev: number;
  nlink: number;
}

/**
 * Times come from the millisecond doubles of a plain Stats, exact to about a quarter of a
 * microsecond today: finer than utimes() can set them back anyway, and a plain lstat costs a
 * third less than a BigInt one.
 */
export function toFileStat(info: Stats): FileStat {
  return {
    kind: info.isFile() ? 'file' : info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'symlink' : 'special',
    size: info.size,
    mode: info.mode & 0o7777,
    uid: info.uid,
    gid: info.gid,
    mtime: msToNs(info.mtimeMs),
    ctime: msToNs(info.ctimeMs),
    ino: info.ino,
    dev: info.dev,
    nlink: info.nlink,
  };
}

/** Milliseconds (a double) as a decimal string of nanoseconds, without BigInt arithmetic. */
export function msToNs(ms: number): string {
  if (ms < 0) {
    const positive = msToNs(-ms);
    return positive === '0' ? '0' : `-${positive}`;
  }
  let whole = Math.floor(ms);
  let fraction = Math.round((ms - whole) * 1e6);
  if (fraction === 1e6) {
    whole += 1;
    fraction = 0;
  }
  if (whole === 0) return String(fraction);
  return `${whole}${String(fraction).padStart(6, '0')}`;
}

export async function lstatExact(path: Buffer | string): Promise<FileStat> {
  return toFileStat(await lstat(path));
}

/** The same version of a file: size, mtime, ctime and inode all equal. */
export function sameVersion(a: FileStat, b: FileStat): boolean {
  return a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.ino === b.ino;
}
