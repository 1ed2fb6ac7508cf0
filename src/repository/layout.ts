/**
 * Where everything lives in a repository (DESIGN §1, docs/FORMAT.md). The only module that
 * spells out key shapes; everything else asks it.
 */
export const CONFIG_KEY = '.twinvault/config.json';
export const SNAPSHOTS_PREFIX = '.twinvault/snapshots/';
export const LOCKS_PREFIX = '.twinvault/locks/';
export const METADATA_PREFIX = '.twinvault/';
/** State a replication keeps in its destination (delete-delay clocks); never replicated itself. */
export const REPLICATION_PREFIX = '.twinvault/replication/';
/** `twinvault deploy` leaves the replicator Lambda's code here, in the replica. */
export const DEPLOY_PREFIX = '.twinvault/deploy/';
/** Content of files whose names S3 cannot hold as keys lives under this folder of the snapshot. */
export const FALLBACK_FOLDER = '_twinvault_fallback';

export function manifestKey(host: string, stamp: string): string {
  return `${SNAPSHOTS_PREFIX}${host}/${stamp}.json.gz`;
}

/** Parses `.twinvault/snapshots/<host>/<stamp>.json.gz`; undefined for anything else. */
export function parseManifestKey(key: string): { host: string; stamp: string } | undefined {
  const match = /^\.twinvault\/snapshots\/([^/]+)\/(\d{8}_\d{6}(?:_\d+)?)\.json\.gz$/.exec(key);
  return match ? { host: match[1]!, stamp: match[2]! } : undefined;
}

/** UTC `YYYYMMDD_HHMMSS`, with `_N` appended when that second is taken already. */
export function stampFor(time: Date, taken: (stamp: string) => boolean): string {
  const iso = time.toISOString();
  const base = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  if (!taken(base)) return base;
  for (let n = 1; ; n++) if (!taken(`${base}_${n}`)) return `${base}_${n}`;
}

/** The time a stamp stands for (its suffix ignored). */
export function stampTime(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})/.exec(stamp)!;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

const HOST_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidHost(host: string): boolean {
  return HOST_PATTERN.test(host);
}

/**
 * What a key is to replication: the repository config, a manifest, file content, or metadata
 * that belongs to one repository only (locks, replication state, probes).
 */
export function kindOfKey(key: string): 'config' | 'manifest' | 'content' | 'local' {
  if (key === CONFIG_KEY) return 'config';
  if (!key.startsWith(METADATA_PREFIX)) return 'content';
  return key.startsWith(SNAPSHOTS_PREFIX) ? 'manifest' : 'local';
}

/** `<host>/<stamp>/...`: what a backup writes. Anything else in the bucket is not twinvault's. */
export function isSnapshotContentKey(key: string): boolean {
  const match = /^([^/]+)\/(\d{8}_\d{6}(?:_\d+)?)\//.exec(key);
  return match !== null && isValidHost(match[1]!);
}
