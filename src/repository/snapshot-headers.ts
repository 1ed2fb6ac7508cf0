import { isTwinvaultError, type TwinvaultError } from '../errors.js';
import { runPool } from '../util/pool.js';
import type { ManifestHeader } from './manifest.js';
import type { ProvenManifests } from './proven-manifests.js';
import type { SnapshotRef } from './snapshots.js';

/**
 * The headers that can be read, and the snapshots whose header cannot (named, not fatal): one
 * damaged manifest must not hide every other snapshot. Only headers are read, as for a listing,
 * from the repository's copies (a cached copy only when proven to be one: proven-manifests.ts);
 * manifest-check.ts reads manifests in full where a decision rests on them.
 */
export async function readReadableHeaders(
  manifests: ProvenManifests,
  refs: SnapshotRef[] = manifests.refs,
): Promise<{
  refs: SnapshotRef[];
  headers: ManifestHeader[];
  damaged: Array<{ ref: SnapshotRef; error: TwinvaultError }>;
}> {
  const outcomes: Array<ManifestHeader | TwinvaultError | undefined> = new Array(refs.length);
  await runPool(
    refs.map((ref, index) => ({ ref, index })),
    8,
    async ({ ref, index }) => {
      try {
        outcomes[index] = await manifests.header(ref);
      } catch (err) {
        if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return; // forgotten meanwhile
        if (!isTwinvaultError(err) || err.code !== 'INTEGRITY') throw err;
        outcomes[index] = err;
      }
    },
  );
  const result = {
    refs: [] as SnapshotRef[],
    headers: [] as ManifestHeader[],
    damaged: [] as Array<{ ref: SnapshotRef; error: TwinvaultError }>,
  };
  outcomes.forEach((outcome, index) => {
    const ref = refs[index]!;
    if (outcome === undefined) return;
    if (isTwinvaultError(outcome)) result.damaged.push({ ref, error: outcome });
    else {
      result.refs.push(ref);
      result.headers.push(outcome);
    }
  });
  return result;
}
