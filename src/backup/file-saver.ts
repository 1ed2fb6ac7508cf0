import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import mime from 'mime-types';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer } from '../backend/body.js';
import { IntegrityError } from '../errors.js';
import { type FileStat, lstatExact, sameVersion } from '../fs/file-stat.js';

/** Files up to this size are read once, into memory: hashed, then uploaded from the buffer. */
export const SMALL_FILE_LIMIT = 8 * 1024 * 1024;
const ATTEMPTS = 3;

export interface SavedContent {
  sha256: string;
  key: string;
  /** The stat the stored content belongs to (the last one, if the file was re-read). */
  stat: FileStat;
  bytesRead: number;
  bytesUploaded: number;
}

/** A file that kept changing while it was read: reported and skipped, never stored torn. */
export class ChangedWhileReadingError extends Error {}

/**
 * Content deduplication over the whole repository: which object holds each SHA-256, plus uploads
 * in flight, so two identical new files in one run are uploaded once.
 */
export interface ContentStore {
  find(sha256: string): Promise<string | undefined>;
  /** Runs `upload` unless that content is stored or being stored; resolves to the key holding it. */
  store(sha256: string, upload: () => Promise<string>): Promise<{ key: string; uploaded: boolean }>;
}

/**
 * Hashes a new or changed file and stores its content unless the repository holds it already.
 * Small files are read once; large ones twice (hash, then upload, hashing again on the way so a
 * change in between is caught). A file whose size, mtime or ctime moves while it is read is read
 * again, up to three times.
 */
export async function saveFile(
  backend: Backend,
  content: ContentStore,
  fsPath: Buffer | string,
  key: string,
  initial: FileStat,
  displayPath: string,
): Promise<SavedContent> {
  let before = initial;
  let bytesRead = 0;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const small = before.size <= SMALL_FILE_LIMIT;
    const data = small ? await readFile(fsPath) : undefined;
    const sha256 = data ? sha256Of(data) : await hashFile(fsPath);
    const readSize = data ? data.length : before.size;
    bytesRead += readSize;
    const after = await lstatExact(fsPath);
    if (!sameVersion(before, after) || readSize !== after.size) {
      before = after;
      continue;
    }
    const metadata = { sha256 };
    const contentType = mime.lookup(displayPath) || undefined;
    const options = contentType ? { metadata, contentType } : { metadata };
    try {
      const stored = await content.store(sha256, async () => {
        if (data) {
          // The buffer is exactly what was hashed, so the store may check against that hash.
          await backend.put(key, bodyFromBuffer(data), { ...options, sha256 });
        } else {
          await uploadVerified(backend, fsPath, key, after.size, sha256, options);
          bytesRead += after.size;
        }
        const settled = await lstatExact(fsPath);
        if (!sameVersion(after, settled)) throw new ChangedWhileReadingError();
        return key;
      });
      return {
        sha256,
        key: stored.key,
        stat: after,
        bytesRead,
        bytesUploaded: stored.uploaded ? readSize : 0,
      };
    } catch (err) {
      if (!(err instanceof ChangedWhileReadingError)) throw err;
      before = await lstatExact(fsPath);
    }
  }
  throw new ChangedWhileReadingError(`${displayPath} changed while it was being read (${ATTEMPTS} attempts)`);
}

function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function hashFile(path: Buffer | string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Uploads a large file from disk, hashing what is sent; different bytes than hashed = changed. */
async function uploadVerified(
  backend: Backend,
  path: Buffer | string,
  key: string,
  size: number,
  sha256: string,
  options: { metadata: Record<string, string>; contentType?: string },
): Promise<void> {
  let sentHash = '';
  await backend
    .put(
      key,
      {
        size,
        open: () => {
          const hash = createHash('sha256');
          const hashing = new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              hash.update(chunk);
              callback(null, chunk);
            },
            flush(callback) {
              sentHash = hash.digest('hex');
              callback();
            },
          });
          const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
          file.on('error', (err) => hashing.destroy(err));
          return file.pipe(hashing);
        },
      },
      options,
    )
    .catch((err: unknown) => {
      // The backend's size check fires when the file grew or shrank under us.
      if (err instanceof IntegrityError) throw new ChangedWhileReadingError();
      throw err;
    });
  if (sentHash !== sha256) throw new ChangedWhileReadingError();
}
