import { isTwinvaultError } from '../errors.js';
import { checkHeaderIdentity } from '../repository/header-identity.js';
import type { Entry } from '../repository/manifest.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import { decodeManifestBytes } from '../repository/manifest-codec.js';
import type { SnapshotRef } from '../repository/snapshots.js';

/**
 * The wanted entries of this machine's cached copy of a manifest, when that copy reads in full
 * (every entry, to the end of the gzip stream) and its header names the snapshot; else undefined.
 * A restore's resort when neither the repository's copy nor a replica's reads in full: the cached
 * copy is one this machine wrote (its backup) or once downloaded from the repository, so it is
 * trusted as much as the repository's own copy was; what makes any restore safe holds for it too:
 * every file's content is checked against its SHA-256 and every path is kept inside the target.
 */
export async function cachedEntries(
  cache: ManifestCache,
  snapshot: SnapshotRef,
  wanted: (entry: Entry) => boolean,
): Promise<{ entries: Entry[]; from: string } | undefined> {
  const data = await cache.cached(snapshot);
  if (!data) return undefined;
  const from = cache.copyPath(snapshot);
  try {
    const { header, entries } = await decodeManifestBytes(data, from);
    checkHeaderIdentity(header, snapshot, from);
    const kept: Entry[] = [];
    for await (const entry of entries) if (wanted(entry)) kept.push(entry);
    return { entries: kept, from };
  } catch (err) {
    if (!isTwinvaultError(err)) throw err;
    return undefined; // damaged too (a damaged download may have been cached): salvage instead
  }
}
