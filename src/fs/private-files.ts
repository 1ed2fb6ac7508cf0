import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What twinvault writes on a machine is its user's alone (DESIGN invariant 9): folders 0700,
 * files 0600. Modes are given at creation, which the umask can only narrow, so the result is the
 * same under umask 022, 077 or 000.
 */
export const PRIVATE_FOLDER = 0o700;
export const PRIVATE_FILE = 0o600;

/** mkdir -p with every folder it creates private; folders that exist keep their modes. */
export async function makePrivateFolder(path: string): Promise<string | undefined> {
  return mkdir(path, { recursive: true, mode: PRIVATE_FOLDER });
}

/**
 * Takes group and other permissions away from `path` if it is ours and has any. Never follows a
 * symlink, never fails: a path that is gone, another user's, or on a filesystem without Unix
 * modes is left as it is (this only closes what an older version left open).
 * Returns the entry's kind, so a caller can go on into a folder.
 */
export async function closeToOthers(path: string): Promise<'dir' | 'file' | undefined> {
  try {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return undefined;
    const kind = info.isDirectory() ? 'dir' : info.isFile() ? 'file' : undefined;
    if (kind === undefined) return undefined;
    const mine = process.getuid === undefined || info.uid === process.getuid();
    if (mine && (info.mode & 0o077) !== 0) await chmod(path, info.mode & 0o7700);
    return kind;
  } catch {
    return undefined;
  }
}

/**
 * Closes `folder` and what lies up to `depth` levels below it (depth 0: the folder alone). Meant
 * for twinvault's own folders at start: a shallow pass costs a few system calls, while a closed
 * folder already keeps other users out of everything below it, however large.
 */
export async function closeFolderToOthers(folder: string, depth: number): Promise<void> {
  if ((await closeToOthers(folder)) !== 'dir' || depth === 0) return;
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  for (const name of names) await closeFolderToOthers(join(folder, name), depth - 1);
}
