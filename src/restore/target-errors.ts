import { isTwinvaultError, LocalPathError, type TwinvaultError } from '../errors.js';

/**
 * Turns a filesystem error met while writing into the restore target into a LocalPathError that
 * names the path and what to do: the user can cause each of these (a full disk, a folder they may
 * not write, a file where a folder goes), so none is "a bug in twinvault". LOCAL_PATH also tells
 * the replica fallback that another copy of the data would not help. Errors that are already
 * typed (the repository's, a checksum mismatch) pass through unchanged.
 */
export function targetError(err: unknown, action: string, path: string | Buffer): unknown {
  if (isTwinvaultError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  // Only what a local filesystem says; a network error from a download's stream keeps its own.
  if (typeof code !== 'string' || !LOCAL_CODES.has(code)) return err;
  const where = typeof path === 'string' ? path : path.toString();
  const fail = (why: string, hint?: string): TwinvaultError =>
    new LocalPathError(`cannot ${action} ${where}: ${why}`, {
      cause: err,
      ...(hint === undefined ? {} : { hint }),
    });
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return fail(
        'permission denied',
        'restore into a folder you may write (--target), or run as a user who may write there',
      );
    case 'ENOSPC':
      return fail(
        'no space left on the device',
        'free some space or restore into another disk; files restored so far are complete and verified, and a second run skips them',
      );
    case 'EDQUOT':
      return fail('disk quota exceeded', 'free some space or restore into another disk');
    case 'EROFS':
      return fail('the filesystem is read-only', 'restore into another folder (--target)');
    case 'EEXIST':
    case 'ENOTDIR':
      return fail(
        'a file stands where a folder is needed',
        'move it away, or restore into another target folder',
      );
    case 'EISDIR':
      return fail(
        'a folder stands where a file is needed',
        'move it away, or restore into another target folder',
      );
    case 'ENAMETOOLONG':
      return fail('the name is too long for this filesystem', 'restore into a folder with a shorter path');
    case 'ENOENT':
      return fail('it, or a folder on the way, disappeared during the restore', 'run the restore again');
    case 'EMFILE':
    case 'ENFILE':
      return fail('too many open files', 'raise the open-file limit (ulimit -n) and run it again');
    default:
      return fail(`${code} (${(err as Error).message})`);
  }
}

const LOCAL_CODES = new Set([
  'EACCES',
  'EPERM',
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'ENAMETOOLONG',
  'ENOENT',
  'EMFILE',
  'ENFILE',
  'EIO',
  'EFBIG',
  'ELOOP',
  'EBUSY',
  'ETXTBSY',
  'EXDEV',
]);

/** Runs a filesystem step of the restore, with its failures named (see targetError). */
export async function atTarget<T>(action: string, path: string | Buffer, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw targetError(err, action, path);
  }
}
