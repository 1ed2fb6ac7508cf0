import type { Backend } from '../backend/backend.js';
import { stateFolder } from '../config/paths.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { ProvenManifests } from '../repository/proven-manifests.js';
import type { Repository } from '../repository/repository.js';
import { type SnapshotSelection, selectSnapshot } from '../repository/snapshot-select.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import type { GlobalOptions } from './output.js';

/** The repository's manifests (one listing), read through this machine's cache where proven. */
export function repositoryManifests({
  backend,
  repository,
}: {
  backend: Backend;
  repository: Repository;
}): Promise<ProvenManifests> {
  return ProvenManifests.list(backend, ManifestCache.forRepository(stateFolder(), repository.config.id));
}

/**
 * Resolves a SNAPSHOT argument: latest, <host>/<stamp>, or a unique id prefix; narrowed by
 * --host, --source and, for "latest", the paths asked for. When "latest" was narrowed, says on
 * stderr which snapshot it picked (and any newer one it could not read). `manifests`: a listing
 * the command reads manifests from afterwards (else one is made).
 */
export async function findSnapshot(
  global: GlobalOptions,
  context: { backend: Backend; repository: Repository },
  spec: string,
  selection: SnapshotSelection = {},
  manifests?: ProvenManifests,
): Promise<SnapshotRef> {
  const picked = await selectSnapshot(manifests ?? (await repositoryManifests(context)), spec, selection);
  if (global.quiet || !picked.narrowed) return picked.ref;
  for (const { ref, message } of picked.unreadable)
    process.stderr.write(
      `warning: passed over snapshot ${ref.host}/${ref.stamp}, which cannot be read: ${message}\n`,
    );
  const what = [
    ...(selection.source ? [`source "${selection.source}"`] : []),
    ...(selection.paths ?? []).map((path) => `"${path}"`),
  ].join(' and ');
  process.stderr.write(
    `latest snapshot holding ${what}: ${picked.ref.id.slice(0, 8)} (${picked.ref.host}/${picked.ref.stamp})${
      picked.passedOver > 0 ? `; ${picked.passedOver} newer snapshot(s) do not hold it` : ''
    }\n`,
  );
  return picked.ref;
}

/** The --host and --source flags as a selection. */
export function selectionOf(
  flags: { host?: string; source?: string },
  paths: string[] = [],
): SnapshotSelection {
  return {
    ...(flags.host ? { host: flags.host } : {}),
    ...(flags.source ? { source: flags.source } : {}),
    ...(paths.length > 0 ? { paths } : {}),
  };
}

/** Whether `path` is `subpath` or lies below it. */
export function isWithin(path: string, subpath: string | undefined): boolean {
  if (!subpath) return true;
  const clean = subpath.replace(/^\/+|\/+$/g, '');
  return clean === '' || path === clean || path.startsWith(`${clean}/`);
}
