import { createHash } from 'node:crypto';
import type { ObjectInfo } from '../backend/backend.js';
import type { ManifestCache } from './manifest-cache.js';
import type { SnapshotRef } from './snapshots.js';

/**
 * What was proven of a manifest's bytes (kept beside the cached copy): they are the repository's
 * copy at this ETag and size, and, when `full`, they were read in full without damage. Records
 * written before `full` existed came only from full reads.
 */
interface ProofRecord {
  size: number;
  etag: string;
  sha256: string;
  full?: boolean;
}

/** A cached manifest proven to be the repository's current copy. */
export interface ProvenCopy {
  data: Buffer;
  /** These very bytes were read in full before, without damage: their header can be trusted. */
  readInFull: boolean;
}

/**
 * The cached copy of a manifest when it is the repository's copy as listed (`object`): same size,
 * and either the listing's ETag is the MD5 of the cached bytes (S3's ETag of a plain upload) or
 * the ETag recorded when this machine last proved these bytes (same SHA-256). Manifests never
 * change once written, so a copy that differs from the repository's means the repository's copy
 * was damaged or replaced (or the local copy was): it is never trusted then.
 */
export async function provenCachedCopy(
  cache: ManifestCache,
  ref: SnapshotRef,
  object: ObjectInfo,
): Promise<ProvenCopy | undefined> {
  const data = await cache.cached(ref);
  if (!data || data.length !== object.size) return undefined;
  const record = (await cache.readCheck(ref)) as Partial<ProofRecord> | undefined;
  // The cheaper hash first: SHA-256 runs in hardware where MD5 does not.
  const sameBytes = record?.size === data.length && record.sha256 === sha256Of(data);
  const readInFull = sameBytes && record?.full !== false;
  if (sameBytes && record?.etag === object.etag) return { data, readInFull };
  const md5 = plainMd5(object.etag);
  if (md5 === undefined || createHash('md5').update(data).digest('hex') !== md5) return undefined;
  // Proven by its MD5: note the ETag, so the next run proves it by the record alone.
  await recordProof(cache, ref, object, data, readInFull);
  return { data, readInFull };
}

/**
 * Records that `data` is the repository's copy of a manifest at the listed ETag, and whether it
 * was read in full. An unwritable cache only costs a download or a full read next time.
 */
export async function recordProof(
  cache: ManifestCache,
  ref: SnapshotRef,
  object: Pick<ObjectInfo, 'etag'>,
  data: Buffer,
  full: boolean,
): Promise<void> {
  const record: ProofRecord = { size: data.length, etag: object.etag, sha256: sha256Of(data), full };
  await cache.storeCheck(ref, record).catch(() => {});
}

/** Whether the record of `data` says it was read in full (the ETag may have changed since). */
export async function wasReadInFull(cache: ManifestCache, ref: SnapshotRef, data: Buffer): Promise<boolean> {
  const record = (await cache.readCheck(ref)) as Partial<ProofRecord> | undefined;
  return record?.size === data.length && record.sha256 === sha256Of(data) && record.full !== false;
}

/** The MD5 an ETag states, when it is a plain one (a single-part upload without SSE-KMS). */
function plainMd5(etag: string): string | undefined {
  const bare = etag.replace(/^"|"$/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}

function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
