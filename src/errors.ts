/**
 * The error vocabulary of twinvault. Every failure a user can meet is one of these classes: a
 * stable machine-readable `code`, a message that says what went wrong and where, an optional
 * `hint` that says what to do, and whether trying again could help. The CLI maps classes to exit
 * codes in one place (cli/exit-codes.ts); the core never prints.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'ACCESS_DENIED'
  | 'BUCKET_NOT_FOUND'
  | 'STORAGE_UNREACHABLE'
  | 'STORAGE_FAILED'
  | 'LOCAL_PATH'
  | 'INTEGRITY'
  | 'NOTIFY_FAILED'
  | 'ARCHIVED'
  | 'RETRIEVAL_PENDING'
  | 'INTERNAL';

export interface TwinvaultErrorOptions {
  cause?: unknown;
  hint?: string;
  retryable?: boolean;
}

export class TwinvaultError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly isRetryable: boolean;

  constructor(code: ErrorCode, message: string, options: TwinvaultErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.isRetryable = options.retryable ?? false;
  }
}

/** The configuration file, an environment variable or a flag holds something invalid. */
export class ConfigError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

/** The command line itself is wrong (unknown command, bad flag value). */
export class UsageError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('USAGE', message, options);
  }
}

/** An object, snapshot or file that was asked for does not exist. */
export class NotFoundError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('NOT_FOUND', message, options);
  }
}

/** A create-only write found the key already taken. */
export class AlreadyExistsError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('ALREADY_EXISTS', message, options);
  }
}

/** The store refused the credentials or the operation. */
export class AccessDeniedError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('ACCESS_DENIED', message, options);
  }
}

export class BucketNotFoundError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('BUCKET_NOT_FOUND', message, options);
  }
}

/** The store could not be reached at all (DNS, refused connection, timeout). */
export class StorageUnreachableError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('STORAGE_UNREACHABLE', message, { retryable: true, ...options });
  }
}

/** The store answered, but with a failure that is none of the more specific kinds above. */
export class StorageError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('STORAGE_FAILED', message, options);
  }
}

/** A local path cannot be used as asked (a file where a folder is needed, no permission, ...). */
export class LocalPathError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('LOCAL_PATH', message, options);
  }
}

/** Data does not match its recorded checksum or size. */
export class IntegrityError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('INTEGRITY', message, options);
  }
}

export function isTwinvaultError(err: unknown): err is TwinvaultError {
  return err instanceof TwinvaultError;
}

/** A notification channel could not deliver (its server refused, timed out or is misconfigured). */
export class NotificationError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('NOTIFY_FAILED', message, options);
  }
}

/**
 * Objects needed are archived (S3 Glacier Flexible Retrieval, Deep Archive): they cannot be read
 * until a restore request makes them readable, hours later. The hint says how to ask for it.
 */
export class ArchivedError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('ARCHIVED', message, options);
  }
}

/**
 * Retrievals of archived objects were requested (now or earlier) and are not done yet: running
 * the same command again later carries on, asking for nothing twice.
 */
export class RetrievalPendingError extends TwinvaultError {
  constructor(message: string, options: TwinvaultErrorOptions = {}) {
    super('RETRIEVAL_PENDING', message, options);
  }
}
