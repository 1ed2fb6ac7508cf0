import type { Backend } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { isTwinvaultError, type TwinvaultError } from '../errors.js';
import { runPool } from '../util/pool.js';
import type { ManifestHeader } from './manifest.js';
import type { ManifestCache } from './manifest-cache.js';
import { salvageManifest } from './manifest-salvage.js';
import { ProvenManifests } from './proven-manifests.js';
import type { SnapshotRef } from './snapshots.js';

export interface DamagedManifest {
  ref: SnapshotRef;
  /** Its header, when that much could be read. */
  header?: ManifestHeader;
  error: TwinvaultError;
}

export interface CheckedManifests {
  /** The snapshots whose manifests can be read in full, in the order given, with their headers. */
  refs: SnapshotRef[];
  headers: ManifestHeader[];
  /** The others (a manifest gone since the listing is in neither). */
  damaged: DamagedManifest[];
}

/**
 * The headers of many snapshots, each from bytes proven to be the repository's own copy and read
 * in full (every entry, to the end of the gzip stream): what retention decides on must be what a
 * restore would read, not an intact local copy of a manifest damaged in the repository, nor a
 * header whose entries are lost. How a cached copy is proven to be the repository's, and how a
 * manifest read in full once is not parsed again while it stays the same (so a second run costs
 * one listing and a hash of each cached manifest): proven-manifests.ts, manifest-proof.ts.
 */
export async function readCheckedHeaders(
  backend: Backend,
  cache: ManifestCache,
  refs: SnapshotRef[],
): Promise<CheckedManifests> {
  const manifests = await ProvenManifests.list(backend, cache);
  const listed = new Set(manifests.refs.map((ref) => ref.key));
  const outcomes: Array<{ header: ManifestHeader } | DamagedManifest | undefined> = new Array(refs.length);
  await runPool(
    refs.map((ref, index) => ({ ref, index })),
    8,
    async ({ ref, index }) => {
      if (!listed.has(ref.key)) return; // forgotten since the caller's listing
      try {
        outcomes[index] = { header: await manifests.checkedHeader(ref) };
      } catch (err) {
        if (!isTwinvaultError(err)) throw err;
        if (err.code === 'NOT_FOUND') return;
        if (err.code !== 'INTEGRITY') throw err;
        outcomes[index] = { ref, error: err, ...(await headerOnly(backend, ref)) };
      }
    },
  );
  const result: CheckedManifests = { refs: [], headers: [], damaged: [] };
  outcomes.forEach((outcome, index) => {
    if (!outcome) return;
    if ('error' in outcome) result.damaged.push(outcome);
    else {
      result.refs.push(refs[index]!);
      result.headers.push(outcome.header);
    }
  });
  return result;
}

/** The header of a damaged manifest, when its first line still reads. */
async function headerOnly(backend: Backend, ref: SnapshotRef): Promise<{ header?: ManifestHeader }> {
  try {
    const data = await readAll(await backend.get(ref.key));
    return { header: salvageManifest(data, `${backend.location}/${ref.key}`).header };
  } catch {
    return {};
  }
}
