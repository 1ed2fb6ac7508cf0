import type { Backend } from '../backend/backend.js';
import { billedBytes, monthlyCost, priceTable } from './class-billing.js';
import { kindOfKey } from './layout.js';
import type { ManifestCache } from './manifest-cache.js';
import { ProvenManifests } from './proven-manifests.js';
import { readReadableHeaders } from './snapshot-headers.js';
import type { SnapshotRef } from './snapshots.js';

export { DEFAULT_PRICES } from './class-billing.js';

export interface HostStats {
  host: string;
  snapshots: number;
  /** Files in the host's newest snapshot. */
  files: number;
  /** What restoring every snapshot of the host would write. */
  logicalBytes: number;
  /** Content objects stored under the host's folder. */
  objects: number;
  storedBytes: number;
}

export interface RepositoryStats {
  hosts: HostStats[];
  /** Snapshots whose manifest header cannot be read: left out of the figures, named. */
  unreadable: Array<{ ref: SnapshotRef; error: Error }>;
  total: {
    snapshots: number;
    logicalBytes: number;
    objects: number;
    /** Content and metadata (manifests, config). */
    storedBytes: number;
    /** Logical bytes not stored thanks to unchanged files being referenced, not uploaded again. */
    dedupSavedBytes: number;
    /** `billedBytes`: what AWS bills (128 KB minimums, 40 KB per archived object; class-billing.ts). */
    byStorageClass: Record<string, { objects: number; bytes: number; billedBytes: number }>;
    estimatedMonthlyCostUsd: number;
  };
}

/** Figures of a repository from one listing and the snapshots' headers (cached locally). */
export async function repositoryStats(
  backend: Backend,
  cache: ManifestCache,
  prices: Partial<Record<string, number>> = {},
): Promise<RepositoryStats> {
  const { refs, headers, damaged } = await readReadableHeaders(await ProvenManifests.list(backend, cache));
  const hosts = new Map<string, HostStats>();
  const hostOf = (host: string) => {
    let entry = hosts.get(host);
    if (!entry) {
      entry = { host, snapshots: 0, files: 0, logicalBytes: 0, objects: 0, storedBytes: 0 };
      hosts.set(host, entry);
    }
    return entry;
  };
  // Refs are oldest first: the last one seen per host is its newest.
  headers.forEach((header, index) => {
    const entry = hostOf(refs[index]!.host);
    entry.snapshots++;
    entry.files = header.summary.files;
    entry.logicalBytes += header.summary.bytes;
  });
  const byStorageClass: RepositoryStats['total']['byStorageClass'] = {};
  const table = priceTable(prices);
  let cost = 0;
  let storedBytes = 0;
  let objects = 0;
  let contentBytes = 0;
  for await (const object of backend.list()) {
    if (kindOfKey(object.key) === 'local') continue;
    objects++;
    storedBytes += object.size;
    const storageClass = object.storageClass ?? 'STANDARD';
    const slot = byStorageClass[storageClass] ?? { objects: 0, bytes: 0, billedBytes: 0 };
    byStorageClass[storageClass] = slot;
    slot.objects++;
    slot.bytes += object.size;
    // Per object: small objects in the cold classes are billed far above their size.
    slot.billedBytes += billedBytes(object.size, storageClass);
    cost += monthlyCost(object.size, storageClass, table);
    if (kindOfKey(object.key) !== 'content') continue;
    contentBytes += object.size;
    const host = object.key.slice(0, object.key.indexOf('/'));
    if (host && hosts.has(host)) {
      hostOf(host).objects++;
      hostOf(host).storedBytes += object.size;
    }
  }
  const logicalBytes = [...hosts.values()].reduce((sum, host) => sum + host.logicalBytes, 0);
  return {
    hosts: [...hosts.values()].sort((a, b) => (a.host < b.host ? -1 : 1)),
    unreadable: damaged,
    total: {
      snapshots: refs.length,
      logicalBytes,
      objects,
      storedBytes,
      dedupSavedBytes: Math.max(0, logicalBytes - contentBytes),
      byStorageClass,
      estimatedMonthlyCostUsd: Math.round(cost * 10_000) / 10_000,
    },
  };
}
