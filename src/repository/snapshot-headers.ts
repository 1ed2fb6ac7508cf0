import type { Backend } from '../backend/backend.js';
import { runPool } from '../util/pool.js';
import type { ManifestHeader } from './manifest.js';
import type { ManifestCache } from './manifest-cache.js';
import type { SnapshotRef } from './snapshots.js';

/** The headers of many snapshots, several at a time; cached manifests cost no request. */
export async function readHeaders(
  backend: Backend,
  cache: ManifestCache,
  refs: SnapshotRef[],
): Promise<ManifestHeader[]> {
  const headers: ManifestHeader[] = new Array(refs.length);
  await runPool(
    refs.map((ref, index) => ({ ref, index })),
    8,
    async ({ ref, index }) => {
      headers[index] = await cache.header(backend, ref);
    },
  );
  return headers;
}
