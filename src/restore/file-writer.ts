import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  fchmodSync,
  fchownSync,
  futimesSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Backend } from '../backend/backend.js';
import { IntegrityError } from '../errors.js';
import type { FileEntry } from '../repository/manifest.js';

const RUNNING_AS_ROOT = process.getuid?.() === 0;
/** Files up to this size are downloaded into memory and written with a few direct system calls. */
const SMALL_FILE = 1024 * 1024;

/**
 * Downloads a file's content, checks its size and SHA-256 against the manifest (DESIGN invariant
 * 4), writes it under a temporary name, sets owner, mode and times through the open file, and only
 * then renames it into place: a file under its own name is always complete and verified, so an
 * interrupted restore resumed even with --overwrite never cannot keep a torn one. A mismatch
 * leaves nothing behind and is an error, never a silent success.
 */
export async function downloadVerified(
  backend: Backend,
  entry: FileEntry,
  destination: Buffer,
): Promise<number> {
  const temp = tempPathBeside(destination);
  if (entry.size <= SMALL_FILE) {
    // At most one byte more than expected is read: a wrong object may be any size.
    const data = await readAtMost(await backend.get(entry.key), entry.size + 1);
    check(entry, data.length, createHash('sha256').update(data).digest('hex'));
    writeSmallFile(temp, destination, data, entry);
    return data.length;
  }
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of await backend.get(entry.key)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      for (let offset = 0; offset < (chunk as Buffer).length; ) {
        offset += (await handle.write(chunk as Buffer, offset)).bytesWritten;
      }
    }
    check(entry, size, hash.digest('hex'));
    if (RUNNING_AS_ROOT) await handle.chown(entry.uid, entry.gid);
    await handle.chmod(entry.mode);
    const mtime = nsToSeconds(entry.mtime);
    await handle.utimes(mtime, mtime);
    await handle.close();
    handle = undefined;
    await rename(temp, destination);
    return size;
  } catch (err) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/**
 * Writes verified bytes with synchronous calls: for a small file, seven thread-pool round trips
 * cost more than the work itself (the same finding as lstat in the scan).
 */
function writeSmallFile(temp: Buffer, destination: Buffer, data: Buffer, entry: FileEntry): void {
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o600);
    for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
    if (RUNNING_AS_ROOT) fchownSync(fd, entry.uid, entry.gid);
    fchmodSync(fd, entry.mode);
    const mtime = nsToSeconds(entry.mtime);
    futimesSync(fd, mtime, mtime);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, destination);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw err;
  }
}

function check(entry: FileEntry, size: number, sha256: string): void {
  if (size === entry.size && sha256 === entry.sha256) return;
  throw new IntegrityError(
    `content of ${JSON.stringify(entry.path)} (object ${entry.key}) does not match its manifest: ` +
      `expected ${entry.size} bytes with SHA-256 ${entry.sha256.slice(0, 16)}…, got ${size} bytes with ${sha256.slice(0, 16)}…`,
    { hint: 'run "twinvault verify"; a replica may hold an intact copy' },
  );
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

async function readAtMost(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total >= limit) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks);
}

/**
 * A short temporary name in the destination's folder (the rename must stay on one filesystem):
 * appending to the file's own name would fail for names near the 255-byte limit.
 */
function tempPathBeside(destination: Buffer): Buffer {
  const slash = destination.lastIndexOf(0x2f);
  return Buffer.concat([
    destination.subarray(0, slash + 1),
    Buffer.from(`.twinvault-restore-${randomBytes(6).toString('hex')}`),
  ]);
}
