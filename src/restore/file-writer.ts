import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import type { Backend } from '../backend/backend.js';
import { IntegrityError } from '../errors.js';
import type { FileEntry } from '../repository/manifest.js';

const RUNNING_AS_ROOT = process.getuid?.() === 0;

/**
 * Downloads a file's content, checks its size and SHA-256 against the manifest (DESIGN invariant
 * 4) and sets its owner, mode and times through the open handle. A new file is written in place
 * (a torn one left by a crash is found and rewritten by the next if-changed restore); an existing
 * one is replaced only by renaming a verified temporary file over it. A mismatch removes what was
 * written and is an error, never a silent success.
 */
export async function downloadVerified(
  backend: Backend,
  entry: FileEntry,
  destination: Buffer,
): Promise<number> {
  // Always through a temporary name: a file under its own name is complete and verified, so an
  // interrupted restore resumed with --overwrite never cannot keep a torn one.
  const path = Buffer.concat([
    destination,
    Buffer.from(`.twinvault-restore-${randomBytes(4).toString('hex')}`),
  ]);
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of await backend.get(entry.key)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      for (let offset = 0; offset < (chunk as Buffer).length; ) {
        offset += (await handle.write(chunk as Buffer, offset)).bytesWritten;
      }
    }
    const sha256 = hash.digest('hex');
    if (size !== entry.size || sha256 !== entry.sha256) {
      throw new IntegrityError(
        `content of ${JSON.stringify(entry.path)} (object ${entry.key}) does not match its manifest: ` +
          `expected ${entry.size} bytes with SHA-256 ${entry.sha256.slice(0, 16)}…, got ${size} bytes with ${sha256.slice(0, 16)}…`,
        { hint: 'run "twinvault verify"; a replica may hold an intact copy' },
      );
    }
    if (RUNNING_AS_ROOT) await handle.chown(entry.uid, entry.gid);
    await handle.chmod(entry.mode);
    const mtime = nsToSeconds(entry.mtime);
    await handle.utimes(mtime, mtime);
    await handle.close();
    handle = undefined;
    await rename(path, destination);
    return size;
  } catch (err) {
    await handle?.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw err;
  }
}

export function nsToSeconds(ns: string): number {
  const value = BigInt(ns);
  return Number(value / 1_000_000_000n) + Number(value % 1_000_000_000n) / 1e9;
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
