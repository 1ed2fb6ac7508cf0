import type { Backend, ObjectInfo } from '../backend/backend.js';
import { ArchivedError, isTwinvaultError, type TwinvaultError } from '../errors.js';
import { kindOfKey } from '../repository/layout.js';

export type CopyOutcome =
  | { kind: 'copied'; ms: number }
  | { kind: 'vanished' }
  /** `archived`: the source object is archived (Glacier, Deep Archive), which S3 cannot copy. */
  | { kind: 'failed'; error: TwinvaultError; archived?: true };

/**
 * Copies one object from source to destination under the same key: server-side where both are
 * on one store (CopyObject, or UploadPartCopy for large objects), streamed otherwise. Problems
 * that may be this object's alone (it vanished, its bytes fail their checksum, access to it is
 * denied) are returned; a store that cannot be reached fails every copy, so that is thrown.
 */
export async function copyObject(
  source: Backend,
  destination: Backend,
  info: ObjectInfo,
): Promise<CopyOutcome> {
  const started = performance.now();
  try {
    // Content takes the replica's storage class; manifests and config stay hot there too.
    const content = kindOfKey(info.key) === 'content';
    await destination.copy(info.key, info.key, { from: source, source: info, content });
    return { kind: 'copied', ms: performance.now() - started };
  } catch (err) {
    if (!isTwinvaultError(err)) throw err;
    if (err.code === 'NOT_FOUND') return { kind: 'vanished' };
    if (err.code === 'ARCHIVED')
      return { kind: 'failed', error: archivedSource(source, info, err), archived: true };
    // One object's: its checksum, a lock or key policy on it. Many in a row stop the pass.
    if (
      err.code === 'INTEGRITY' ||
      err.code === 'ACCESS_DENIED' ||
      (err.code === 'STORAGE_FAILED' && !err.isRetryable)
    ) {
      return { kind: 'failed', error: err };
    }
    throw err;
  }
}

/**
 * A lifecycle transition archived the object before this replica had a copy: S3 refuses to copy
 * (or read) it until it is restored. Said per object; the pass goes on with the others.
 */
function archivedSource(source: Backend, info: ObjectInfo, cause: TwinvaultError): TwinvaultError {
  return new ArchivedError(
    `"${info.key}" is archived${info.storageClass ? ` (${info.storageClass})` : ''} in ${source.location}, which S3 cannot copy: it was archived before this replica got it`,
    {
      cause,
      hint: 'restore it in the repository (aws s3api restore-object, or twinvault verify --read-data --request-archived) and replicate again; let the lifecycle transition wait longer than the replicas lag (docs/STORAGE.md)',
    },
  );
}
