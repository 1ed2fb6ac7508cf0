import type { Backend, ObjectInfo } from '../backend/backend.js';
import { isTwinvaultError, type TwinvaultError } from '../errors.js';

export type CopyOutcome =
  | { kind: 'copied'; ms: number }
  | { kind: 'vanished' }
  | { kind: 'failed'; error: TwinvaultError };

/**
 * Copies one object from source to destination under the same key: server-side where both are
 * on one store (CopyObject, or UploadPartCopy for large objects), streamed otherwise. Problems of
 * this one object (it vanished, its bytes fail their checksum) are returned; anything that will
 * fail every other copy too (store unreachable, access denied) is thrown, to stop the pass.
 */
export async function copyObject(
  source: Backend,
  destination: Backend,
  info: ObjectInfo,
): Promise<CopyOutcome> {
  const started = performance.now();
  try {
    await destination.copy(info.key, info.key, { from: source, source: info });
    return { kind: 'copied', ms: performance.now() - started };
  } catch (err) {
    if (!isTwinvaultError(err)) throw err;
    if (err.code === 'NOT_FOUND') return { kind: 'vanished' };
    if (err.code === 'INTEGRITY' || (err.code === 'STORAGE_FAILED' && !err.isRetryable)) {
      return { kind: 'failed', error: err };
    }
    throw err;
  }
}
