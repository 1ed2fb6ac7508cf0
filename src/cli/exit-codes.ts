import type { ErrorCode } from '../errors.js';

/**
 * The one place errors become exit codes. Scripts and monitoring rely on these numbers; add new
 * ones, never renumber. Documented in docs/CLI.md.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** A backup completed, but some files could not be read and were skipped (as restic's 3). */
  partial: 3,
  notFound: 4,
  integrity: 5,
  storage: 6,
  /** Objects needed are archived (Glacier, Deep Archive); nothing was requested: --request-archived. */
  archived: 7,
  /** Retrieval of archived objects requested and under way: run the same command again later. */
  retrievalPending: 8,
  interrupted: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  CONFIG_INVALID: EXIT.usage,
  USAGE: EXIT.usage,
  NOT_FOUND: EXIT.notFound,
  ALREADY_EXISTS: EXIT.failure,
  ACCESS_DENIED: EXIT.storage,
  BUCKET_NOT_FOUND: EXIT.storage,
  STORAGE_UNREACHABLE: EXIT.storage,
  STORAGE_FAILED: EXIT.storage,
  LOCAL_PATH: EXIT.failure,
  INTEGRITY: EXIT.integrity,
  NOTIFY_FAILED: EXIT.failure,
  ARCHIVED: EXIT.archived,
  RETRIEVAL_PENDING: EXIT.retrievalPending,
  INTERNAL: EXIT.failure,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code];
}
