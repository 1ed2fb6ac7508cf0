import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend } from '../backend/backend.js';
import { IntegrityError } from '../errors.js';
import type { FileEntry } from '../repository/manifest.js';

/**
 * Downloads a file's content into a temporary file beside its destination, checks its size and
 * SHA-256 against the manifest (DESIGN invariant 4), and only then renames it into place. A
 * mismatch leaves nothing behind and is an error, never a silent success.
 */
export async function downloadVerified(
  backend: Backend,
  entry: FileEntry,
  destination: Buffer,
): Promise<number> {
  const temp = Buffer.concat([
    destination,
    Buffer.from(`.twinvault-restore-${randomBytes(4).toString('hex')}`),
  ]);
  const hash = createHash('sha256');
  let size = 0;
  try {
    const source = await backend.get(entry.key);
    await pipeline(
      source,
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
      createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
    );
    const sha256 = hash.digest('hex');
    if (size !== entry.size || sha256 !== entry.sha256) {
      throw new IntegrityError(
        `content of ${JSON.stringify(entry.path)} (object ${entry.key}) does not match its manifest: ` +
          `expected ${entry.size} bytes with SHA-256 ${entry.sha256.slice(0, 16)}…, got ${size} bytes with ${sha256.slice(0, 16)}…`,
        { hint: 'run "twinvault verify"; a replica may hold an intact copy' },
      );
    }
    await rename(temp, destination);
    return size;
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/** Whether the file at `path` already holds exactly the entry's content. */
export async function hasContent(path: Buffer, entry: FileEntry): Promise<boolean> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > entry.size) return false;
    }
  } catch {
    return false;
  }
  return size === entry.size && hash.digest('hex') === entry.sha256;
}
