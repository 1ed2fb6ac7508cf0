import { isTwinvaultError, NotFoundError, UsageError } from '../errors.js';
import type { ManifestHeader } from './manifest.js';
import type { ProvenManifests } from './proven-manifests.js';
import { resolveSnapshot, type SnapshotRef } from './snapshots.js';

export interface SnapshotSelection {
  /** With "latest": the newest of this host. */
  host?: string;
  /** Only a snapshot that holds this source (restic's --path): the agent writes one per source. */
  source?: string;
  /** With "latest": the newest snapshot that holds every one of these `<source>/<path>`s. */
  paths?: string[];
}

export interface SelectedSnapshot {
  ref: SnapshotRef;
  /** Whether "latest" was narrowed to a source or paths (so the caller says which it picked). */
  narrowed: boolean;
  /** Newer snapshots passed over: they hold neither the source nor the paths. */
  passedOver: number;
  /** Newer snapshots passed over because their manifest in the repository cannot be read. */
  unreadable: Array<{ ref: SnapshotRef; message: string }>;
}

/**
 * Finds the snapshot a user named (resolveSnapshot), narrowed by source and paths. With the agent,
 * each source gets snapshots of its own, so the newest snapshot of all may not hold the file asked
 * for while an older one does: "latest" then means the newest that holds it. Newest first, a
 * snapshot's header rules it out cheaply (no such source); only then are its entries read, to the
 * end: the choice rests on the repository's copy (never an intact cached copy of a manifest
 * damaged since, proven-manifests.ts), and a manifest that cannot be read in full is passed over
 * and named, so the restore that follows reads what was chosen, as on a fresh machine.
 */
export async function selectSnapshot(
  manifests: ProvenManifests,
  spec: string,
  selection: SnapshotSelection = {},
): Promise<SelectedSnapshot> {
  const refs = manifests.refs;
  const paths = (selection.paths ?? []).map((path) => path.replace(/^\/+|\/+$/g, '')).filter(Boolean);
  const source = selection.source;
  const host = selection.host ? { host: selection.host } : {};
  if (spec !== 'latest' || (!source && paths.length === 0)) {
    const ref = resolveSnapshot(refs, spec, host);
    if (source) {
      const header = await manifests.header(ref);
      if (!holdsSources(header, [source])) {
        throw new UsageError(
          `snapshot ${ref.host}/${ref.stamp} holds no source "${source}" (it holds ${header.sources.map((s) => `"${s.name}"`).join(', ') || 'none'})`,
          { hint: `list the snapshots of "${source}" with "twinvault snapshots --source ${source}"` },
        );
      }
    }
    return { ref, narrowed: false, passedOver: 0, unreadable: [] };
  }

  const sources = [...new Set([...(source ? [source] : []), ...paths.map((path) => path.split('/')[0]!)])];
  const candidates = refs.filter((ref) => !selection.host || ref.host === selection.host).reverse();
  const unreadable: SelectedSnapshot['unreadable'] = [];
  for (const [index, ref] of candidates.entries()) {
    try {
      if (!holdsSources(await manifests.header(ref), sources)) continue;
      if (paths.length > 0 && !(await holdsPaths(manifests, ref, paths))) continue;
    } catch (err) {
      if (!isTwinvaultError(err) || !['INTEGRITY', 'NOT_FOUND'].includes(err.code)) throw err;
      unreadable.push({ ref, message: err.message });
      continue;
    }
    return { ref, narrowed: true, passedOver: index - unreadable.length, unreadable };
  }
  const what = [
    ...(source ? [`source "${source}"`] : []),
    ...(paths.length > 0 ? [paths.map((path) => `"${path}"`).join(' and ')] : []),
  ].join(' with ');
  const damaged =
    unreadable.length > 0
      ? ` (${unreadable.length} could not be read: ${unreadable.map((u) => `${u.ref.host}/${u.ref.stamp}`).join(', ')}; run "twinvault verify")`
      : '';
  throw new NotFoundError(
    `no snapshot${selection.host ? ` of host "${selection.host}"` : ''} holds ${what}${damaged}`,
    {
      hint: 'see which snapshots hold a source with "twinvault snapshots --source NAME", and what one holds with "twinvault ls ID"',
    },
  );
}

function holdsSources(header: ManifestHeader, sources: string[]): boolean {
  return sources.every((name) => header.sources.some((source) => source.name === name));
}

/**
 * Whether every path is an entry of the snapshot, or a folder with entries below it. The manifest
 * is read to its end either way: one damaged past the paths asked for is passed over too, however
 * large (small ones are decoded in one piece, so all of it is checked anyway).
 */
async function holdsPaths(manifests: ProvenManifests, ref: SnapshotRef, paths: string[]): Promise<boolean> {
  const missing = new Set(paths);
  for await (const entry of (await manifests.open(ref)).entries) {
    for (const path of missing) {
      if (entry.path === path || entry.path.startsWith(`${path}/`)) missing.delete(path);
    }
  }
  return missing.size === 0;
}
