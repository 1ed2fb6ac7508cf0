import { gzipSync } from 'node:zlib';
import type { Backend } from '../src/backend/backend.js';
import { bodyFromBuffer } from '../src/backend/body.js';
import {
  type Entry,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestHeader,
} from '../src/repository/manifest.js';
import { refFor, type SnapshotRef } from '../src/repository/snapshots.js';

/** Hand-made manifests, damaged or hostile ones included, for the readers' tests. */

export const SHA_OF_HELLO = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

export function headerFor(
  ref: SnapshotRef,
  entries: number,
  extra: Partial<ManifestHeader> = {},
): ManifestHeader {
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id: ref.id,
    host: ref.host,
    stamp: ref.stamp,
    time: ref.time.toISOString(),
    tags: [],
    sources: [{ name: 'src', path: '/src' }],
    summary: {
      files: entries,
      dirs: 0,
      symlinks: 0,
      bytes: 0,
      newFiles: 0,
      changedFiles: 0,
      unchangedFiles: 0,
      skipped: 0,
      bytesUploaded: 0,
    },
    entries,
    ...extra,
  };
}

/** A file entry whose content is "hello" at `key`. */
export function fileEntry(path: string, extra: Partial<Entry> = {}): Entry {
  return {
    type: 'file',
    path,
    mode: 0o644,
    mtime: '1700000000000000000',
    uid: 0,
    gid: 0,
    size: 5,
    sha256: SHA_OF_HELLO,
    key: 'content/hello',
    ctime: '0',
    ino: 1,
    ...extra,
  } as Entry;
}

export function dirEntry(path: string): Entry {
  return { type: 'dir', path, mode: 0o755, mtime: '1700000000000000000', uid: 0, gid: 0 };
}

/**
 * Gzipped manifest text: the header line, then `lines` (entries, or any text), each line in a gzip
 * member of its own when `members` is set, as twinvault writes blocks.
 */
export function manifestBytes(
  header: ManifestHeader,
  lines: Array<Entry | string>,
  options: { members?: boolean } = {},
): Buffer {
  const texts = [
    JSON.stringify(header),
    ...lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))),
  ];
  if (!options.members) return gzipSync(`${texts.join('\n')}\n`);
  return Buffer.concat(texts.map((text) => gzipSync(`${text}\n`)));
}

/** Puts a hand-made manifest, and the "hello" object its files name, into `backend`. */
export async function putManifest(
  backend: Backend,
  host: string,
  stamp: string,
  lines: Array<Entry | string>,
  options: { members?: boolean; header?: Partial<ManifestHeader>; entries?: number } = {},
): Promise<SnapshotRef> {
  const ref = refFor(host, stamp);
  const entries = options.entries ?? lines.length;
  await backend.put('content/hello', bodyFromBuffer('hello'));
  await backend.put(
    ref.key,
    bodyFromBuffer(manifestBytes(headerFor(ref, entries, options.header), lines, options)),
  );
  return ref;
}

/**
 * 600 KB of gzip that inflates to one line of 600 MB: 600 members of 1 MiB of "a" each (gzip
 * streams may be concatenated, and readers join them).
 */
export function hostileLongLine(header: ManifestHeader, megabytes = 600): Buffer {
  const member = gzipSync(Buffer.alloc(1 << 20, 'a'), { level: 9 });
  return Buffer.concat([gzipSync(`${JSON.stringify(header)}\n`), ...new Array(megabytes).fill(member)]);
}
