import type { Backend } from '../backend/backend.js';
import { listSnapshots, resolveSnapshot, type SnapshotRef } from '../repository/snapshots.js';

/** Resolves a SNAPSHOT argument: latest, <host>/<stamp>, or a unique id prefix. */
export async function findSnapshot(backend: Backend, spec: string, host?: string): Promise<SnapshotRef> {
  return resolveSnapshot(await listSnapshots(backend), spec, host ? { host } : {});
}

/** Whether `path` is `subpath` or lies below it. */
export function isWithin(path: string, subpath: string | undefined): boolean {
  if (!subpath) return true;
  const clean = subpath.replace(/^\/+|\/+$/g, '');
  return clean === '' || path === clean || path.startsWith(`${clean}/`);
}
