import type { Backend } from '../backend/backend.js';
import type { FileEntry } from '../repository/manifest.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import type { SnapshotRef } from '../repository/snapshots.js';

const MAX_LOOKBACK = 10;

export interface Parents {
  /** File entries of the previous snapshots of these sources, by path. */
  files: Map<string, FileEntry>;
  /** The newest snapshot that contributed, recorded as the new snapshot's parent. */
  parent: SnapshotRef | undefined;
}

/**
 * Finds, for each source, the newest earlier snapshot of this host that holds it (same name and
 * folder), and collects its file entries: unchanged files are recognised against these and are
 * not read again. Manifests come from the local cache when there; otherwise they are downloaded.
 */
export async function loadParents(
  backend: Backend,
  cache: ManifestCache,
  hostSnapshots: SnapshotRef[],
  sources: Array<{ name: string; path: string }>,
): Promise<Parents> {
  const files = new Map<string, FileEntry>();
  const missing = new Map(sources.map((source) => [source.name, source.path]));
  let parent: SnapshotRef | undefined;
  for (const ref of [...hostSnapshots].reverse().slice(0, MAX_LOOKBACK)) {
    if (missing.size === 0) break;
    const { header, entries } = await cache.load(backend, ref);
    const wanted = new Set(
      header.sources
        .filter((source) => missing.get(source.name) === source.path)
        .map((source) => source.name),
    );
    if (wanted.size === 0) continue;
    parent ??= ref;
    for (const entry of entries) {
      if (entry.type !== 'file') continue;
      const sourceName = entry.path.split('/', 1)[0]!;
      // Keyed by exact bytes where the name has them: two invalid names can render alike.
      if (wanted.has(sourceName)) files.set(entry.pathBytes ?? entry.path, entry);
    }
    for (const name of wanted) missing.delete(name);
  }
  return { files, parent };
}
