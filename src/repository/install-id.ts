import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE, PRIVATE_FOLDER } from '../fs/private-files.js';

/** The file, in twinvault's state folder, that holds this user's installation id. */
export const INSTALL_ID_FILE = 'install-id.json';

/**
 * A random id made once per user and machine and kept in the state folder: what tells this
 * machine's locks from those of another machine with the same host name (two Macs both named
 * "MacBook-Pro"), where nothing else does. Returns undefined when the folder cannot be read or
 * written: then no lock counts as this machine's, and every lock waits for its expiry.
 *
 * The id lock files carry is the random id hashed with the file's inode number, so a copy of the
 * state folder on another machine (Migration Assistant, a restore of the home folder, a cloned
 * account) is another installation, not this one. A wiped state folder, or the file replaced,
 * makes a new id: this machine's earlier locks then count as another machine's and wait for their
 * expiry, which costs time, never data.
 *
 * Synchronous, and read once per process by lock-holder.ts: judging a lock is synchronous where
 * errors are built, and this is one small read (or one small write, the first time).
 */
export function installId(stateFolder: string): string | undefined {
  const file = join(stateFolder, INSTALL_ID_FILE);
  try {
    return readInstallId(file) ?? createInstallId(file);
  } catch {
    return undefined;
  }
}

/** The id in `file`; undefined when there is none (or only a damaged one, which is replaced). */
function readInstallId(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const id = parsed(readFileSync(fd, 'utf8'));
    return id === undefined ? undefined : bound(id, fstatSync(fd).ino);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a new id whole under a temporary name, then links it in place: of two processes that
 * start at once on a fresh machine, one link wins and both use its id. A damaged file is replaced
 * (rename), and so is the file where links are not supported.
 */
function createInstallId(file: string): string | undefined {
  mkdirSync(join(file, '..'), { recursive: true, mode: PRIVATE_FOLDER });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ id: randomBytes(16).toString('hex') })}\n`, {
    mode: PRIVATE_FILE,
    flag: 'wx',
  });
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || readInstallId(file) === undefined)
      renameSync(temp, file);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed into place.
    }
  }
  return readInstallId(file);
}

function parsed(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

function bound(id: string, inode: number): string {
  return createHash('sha256').update(`twinvault-install:${id}:${inode}`).digest('hex').slice(0, 24);
}
