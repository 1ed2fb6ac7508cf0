import type { Backend } from '../backend/backend.js';
import { isTwinvaultError, type TwinvaultError } from '../errors.js';
import { stampTime } from '../repository/layout.js';
import type { ManifestHeader } from '../repository/manifest.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import { ParentManifest } from './parent-manifest.js';
import type { LastSnapshotOfSource } from './source-folder.js';

/**
 * Snapshots looked at, newest first, for each source's parent (header reads, mostly from the
 * local cache). The agent writes one snapshot per source, so a quiet source's last one can lie
 * behind many of a busy one's: it names it (`hints`), and a hinted snapshot is looked at even
 * beyond this window (with no parent found, every file would be read again).
 */
const MAX_LOOKBACK = 100;

export interface Parents {
  /** For each source that has one, the snapshot its unchanged entries come from. */
  bySource: Map<string, ParentManifest>;
  /** The newest snapshot that contributed, recorded as the new snapshot's parent. */
  parent: SnapshotRef | undefined;
}

/**
 * Finds, for each source, the newest earlier snapshot of this host that holds it (same name and
 * folder): unchanged files are recognised against it and are not read again. Manifests come from
 * the local cache when there; otherwise they are downloaded. A damaged manifest is passed over.
 */
export async function loadParents(
  backend: Backend,
  cache: ManifestCache,
  hostSnapshots: SnapshotRef[],
  sources: Array<{ name: string; path: string }>,
  /** Ids of snapshots known to hold some of the sources (the agent's last ones). */
  hints: string[] = [],
  /** Told of each damaged manifest passed over: the next older snapshot serves instead. */
  onDamaged: (ref: SnapshotRef, err: TwinvaultError) => void = () => {},
  /** The run's start: snapshots dated after it are looked at last (see newestFirst). */
  now?: Date,
): Promise<Parents> {
  const bySource = new Map<string, ParentManifest>();
  const missing = new Map(sources.map((source) => [source.name, source.path]));
  let parent: SnapshotRef | undefined;
  const newestFirst = pastFirst([...hostSnapshots].reverse(), now);
  const window = newestFirst.slice(0, MAX_LOOKBACK);
  for (const ref of newestFirst.slice(MAX_LOOKBACK)) if (hints.includes(ref.id)) window.push(ref);
  for (const ref of window) {
    if (missing.size === 0) break;
    let manifest: ParentManifest;
    let wanted: ManifestHeader['sources'];
    try {
      const header = await cache.header(backend, ref);
      wanted = header.sources.filter((source) => missing.get(source.name) === source.path);
      if (wanted.length === 0) continue;
      manifest = await ParentManifest.load(backend, cache, ref);
    } catch (err) {
      // One damaged (or forged) manifest must not stop every later backup of the host: build on
      // an older snapshot, or on none (files are then read again; dedup still finds their content).
      if (!isTwinvaultError(err) || err.code !== 'INTEGRITY') throw err;
      onDamaged(ref, err);
      continue;
    }
    parent ??= ref;
    for (const { name } of wanted) {
      bySource.set(name, manifest);
      missing.delete(name);
    }
  }
  return { bySource, parent };
}

/**
 * A snapshot dated after the run started (made while the clock was ahead, or forged) is not the
 * last state of the source: building on it would compare the files with an older state than the
 * newest real snapshot, and record a "parent" from the future. It serves only when no earlier
 * snapshot holds the source (a clock set back: better than reading every file again).
 */
function pastFirst(newestFirst: SnapshotRef[], now: Date | undefined): SnapshotRef[] {
  if (!now) return newestFirst;
  const future = (ref: SnapshotRef) => stampTime(ref.stamp).getTime() > now.getTime();
  return [...newestFirst.filter((ref) => !future(ref)), ...newestFirst.filter(future)];
}

/** What a source's parent says of it, for the rule against emptied sources (source-folder.ts). */
export function lastSnapshotOf(parents: Parents, source: string): LastSnapshotOfSource | undefined {
  const parent = parents.bySource.get(source);
  if (!parent) return undefined;
  return {
    name: `${parent.ref.host}/${parent.ref.stamp}`,
    files: parent.filesIn(source),
    mountPoint: parent.header.sources.some((held) => held.name === source && held.mountPoint === true),
  };
}
