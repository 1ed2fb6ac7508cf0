import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import mime from 'mime-types';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer } from '../backend/body.js';
import { AlreadyExistsError, isTwinvaultError } from '../errors.js';
import { type FileStat, lstatExact, sameVersion, toFileStat } from '../fs/file-stat.js';

/** Files up to this size are read once, into memory: hashed, then uploaded from the buffer. */
export const SMALL_FILE_LIMIT = 8 * 1024 * 1024;
const ATTEMPTS = 3;

export interface SavedContent {
  sha256: string;
  key: string;
  /** The stat of the version whose content was stored. */
  stat: FileStat;
  bytesRead: number;
  bytesUploaded: number;
  /** The content was found complete where an interrupted earlier run had uploaded it. */
  resumed: boolean;
}

/** A file that changed, or was replaced, while it was read: retried, then skipped; never stored torn. */
export class ChangedWhileReadingError extends Error {
  constructor(
    message = '',
    /** Bytes read before the change was noticed. */
    readonly bytesRead = 0,
  ) {
    super(message);
  }
}

/**
 * Content deduplication over the whole repository: which object holds each SHA-256, plus uploads
 * in flight, so two identical new files in one run are uploaded once.
 */
export interface ContentStore {
  find(sha256: string): Promise<string | undefined>;
  /** Runs `upload` unless that content is stored or being stored; resolves to the key holding it. */
  store(sha256: string, upload: () => Promise<string>): Promise<{ key: string; uploaded: boolean }>;
  /** True the first time this run writes `key`: that write must not replace anything. */
  firstWriteOf(key: string): boolean;
  /**
   * The object an interrupted earlier run of this host left for this file (`key` is the one this
   * run would write), if it holds exactly `size` bytes with this SHA-256: referenced instead of
   * uploading again (leftovers.ts).
   */
  leftover?(key: string, size: number, sha256: string): Promise<string | undefined>;
}

/** No symlink followed; non-blocking, so a path swapped for a fifo cannot hang the open. */
const NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Hashes a new or changed file and stores its content unless the repository holds it already.
 * The file is opened without following symlinks and must still be the regular file the scan saw
 * (same device and inode), so a file swapped for a link to something else is never read in its
 * place. Small files are read once; large ones twice (hash, then upload, hashing again on the
 * way). A file that changes while it is read is read again, up to three times.
 */
export async function saveFile(
  backend: Backend,
  content: ContentStore,
  fsPath: Buffer | string,
  key: string,
  initial: FileStat,
  displayPath: string,
): Promise<SavedContent> {
  let expected = initial;
  let bytesRead = 0;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let version: ReadVersion;
    try {
      version =
        expected.size <= QUICK_READ_LIMIT
          ? readQuickly(fsPath, expected)
          : await readVersion(fsPath, expected);
    } catch (err) {
      if (!(err instanceof ChangedWhileReadingError)) throw err;
      bytesRead += err.bytesRead;
      expected = await lstatExact(fsPath);
      if (expected.kind !== 'file')
        throw new ChangedWhileReadingError('it was replaced by something that is not a regular file');
      continue;
    }
    const { data, sha256, stat: after } = version;
    const readSize = after.size;
    bytesRead += readSize;
    let resumed = false;
    try {
      const contentType = mime.lookup(displayPath) || undefined;
      const options = { metadata: { sha256 }, content: true, ...(contentType ? { contentType } : {}) };
      const stored = await content.store(sha256, async () => {
        const left = await content.leftover?.(key, readSize, sha256);
        if (left !== undefined) {
          resumed = true;
          return left;
        }
        const createOnly = content.firstWriteOf(key);
        try {
          if (data) {
            // The buffer is exactly what was hashed, so the store may check against that hash.
            await backend.put(key, bodyFromBuffer(data), { ...options, sha256, createOnly });
          } else {
            await uploadVerified(backend, fsPath, after, key, sha256, { ...options, createOnly });
            bytesRead += after.size;
          }
        } catch (err) {
          if (isTwinvaultError(err) && err.code === 'ALREADY_EXISTS') {
            throw new AlreadyExistsError(
              `another backup of this host started in the same second and wrote ${key}`,
              {
                cause: err,
                retryable: true,
                hint: 'run the backup again',
              },
            );
          }
          throw err;
        }
        return key;
      });
      return {
        sha256,
        key: stored.key,
        stat: after,
        bytesRead,
        bytesUploaded: stored.uploaded && !resumed ? readSize : 0,
        resumed: stored.uploaded && resumed,
      };
    } catch (err) {
      if (!(err instanceof ChangedWhileReadingError)) throw err;
      expected = await lstatExact(fsPath);
    }
  }
  throw new ChangedWhileReadingError('it kept changing while being read');
}

/** One whole, unchanging version of a file: its stat, SHA-256, and (when small) its bytes. */
interface ReadVersion {
  stat: FileStat;
  sha256: string;
  data: Buffer | undefined;
}

/** Files up to this size are read with direct system calls: for them the thread pool costs more. */
const QUICK_READ_LIMIT = 1024 * 1024;

function readQuickly(path: Buffer | string, expected: FileStat): ReadVersion {
  let fd: number;
  try {
    fd = openSync(path, NO_FOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new ChangedWhileReadingError('it was replaced by a symlink');
    throw err;
  }
  try {
    const before = toFileStat(fstatSync(fd));
    checkScanned(before, expected);
    // Grown since the scan (same inode): read it the other way, not whole into memory at once.
    if (before.size > QUICK_READ_LIMIT) throw new ChangedWhileReadingError('it grew while being read');
    const data = Buffer.allocUnsafe(before.size);
    let filled = 0;
    for (let n = 1; filled < data.length && n > 0; filled += n)
      n = readSync(fd, data, filled, data.length - filled, filled);
    const after = toFileStat(fstatSync(fd));
    if (!sameVersion(before, after) || filled !== after.size) throw new ChangedWhileReadingError('', filled);
    return { stat: after, sha256: createHash('sha256').update(data).digest('hex'), data };
  } finally {
    closeSync(fd);
  }
}

async function readVersion(path: Buffer | string, expected: FileStat): Promise<ReadVersion> {
  const handle = await openScanned(path, expected);
  try {
    const before = toFileStat(await handle.stat());
    const data = before.size <= SMALL_FILE_LIMIT ? await handle.readFile() : undefined;
    const sha256 = data ? createHash('sha256').update(data).digest('hex') : await hashHandle(handle);
    const readSize = data ? data.length : before.size;
    const after = toFileStat(await handle.stat());
    if (!sameVersion(before, after) || readSize !== after.size)
      throw new ChangedWhileReadingError('', readSize);
    return { stat: after, sha256, data };
  } finally {
    await handle.close().catch(() => {});
  }
}

function checkScanned(info: FileStat, expected: FileStat): void {
  if (info.kind !== 'file' || info.ino !== expected.ino || info.dev !== expected.dev)
    throw new ChangedWhileReadingError('it was replaced by another file');
}

/** Opens the file the scan saw, refusing a symlink or a different file now at its path. */
async function openScanned(path: Buffer | string, expected: FileStat): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, NO_FOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new ChangedWhileReadingError('it was replaced by a symlink');
    throw err;
  }
  try {
    checkScanned(toFileStat(await handle.stat()), expected);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

async function hashHandle(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of handle.createReadStream({
    start: 0,
    autoClose: false,
    highWaterMark: 1024 * 1024,
  })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/**
 * Uploads a large file from disk, hashing what is sent; different bytes than were hashed, or a
 * failure to read the file (whatever the backend made of it), mean the file changed.
 */
async function uploadVerified(
  backend: Backend,
  path: Buffer | string,
  version: FileStat,
  key: string,
  sha256: string,
  options: { metadata: Record<string, string>; content: boolean; contentType?: string; createOnly: boolean },
): Promise<void> {
  let sentHash = '';
  let sourceFailure: unknown;
  try {
    await backend.put(
      key,
      {
        size: version.size,
        open: async () => {
          const handle = await openScanned(path, version).catch((err: unknown) => {
            sourceFailure = err;
            throw err;
          });
          const hash = createHash('sha256');
          const hashing = new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              hash.update(chunk);
              callback(null, chunk);
            },
            flush(callback) {
              sentHash = hash.digest('hex');
              if (sentHash === sha256) {
                callback();
                return;
              }
              // Not the bytes that were hashed (changed in place, same size): the body fails
              // before its end, so the store keeps nothing under this key. An object there is
              // then always the content its sha256 metadata names, which is what lets a later
              // run reuse it (leftovers.ts).
              sourceFailure = new ChangedWhileReadingError();
              callback(sourceFailure as Error);
            },
          });
          const file = handle.createReadStream({ start: 0, highWaterMark: 1024 * 1024 });
          file.on('error', (err) => {
            sourceFailure = err;
            hashing.destroy(err);
          });
          return file.pipe(hashing);
        },
      },
      options,
    );
  } catch (err) {
    if (sourceFailure !== undefined) {
      if (sourceFailure instanceof ChangedWhileReadingError) throw sourceFailure;
      const code = (sourceFailure as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ChangedWhileReadingError('it vanished while being read');
      throw sourceFailure; // a read error: the file is skipped and reported
    }
    // The backend's size check fires when the file grew or shrank under us.
    if (isTwinvaultError(err) && err.code === 'INTEGRITY') throw new ChangedWhileReadingError();
    throw err;
  }
  if (sentHash !== sha256) throw new ChangedWhileReadingError();
}
