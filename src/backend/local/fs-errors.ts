import { LocalPathError, NotFoundError, StorageError, type TwinvaultError } from '../../errors.js';

/** Turns a Node filesystem error into a TwinvaultError that names the path and the problem. */
export function fsError(err: unknown, action: string, path: string): TwinvaultError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const options = { cause: err };
  switch (code) {
    case 'ENOENT':
      return new NotFoundError(`cannot ${action} ${path}: it does not exist`, options);
    case 'EACCES':
    case 'EPERM':
      return new LocalPathError(`cannot ${action} ${path}: permission denied`, {
        ...options,
        hint: 'check the owner and permissions of the folder, or choose another one',
      });
    case 'EROFS':
      return new LocalPathError(`cannot ${action} ${path}: the filesystem is read-only`, options);
    case 'ENOTDIR':
    case 'EEXIST':
      return new LocalPathError(`cannot ${action} ${path}: a file stands where a folder is needed`, options);
    case 'EISDIR':
      return new LocalPathError(`cannot ${action} ${path}: it is a folder`, options);
    case 'ENOSPC':
      return new StorageError(`cannot ${action} ${path}: no space left on the device`, options);
    default:
      return new StorageError(`cannot ${action} ${path}: ${(err as Error)?.message ?? String(err)}`, options);
  }
}

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
