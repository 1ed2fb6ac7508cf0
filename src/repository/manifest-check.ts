import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Backend, ObjectInfo } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { isTwinvaultError, type TwinvaultError } from '../errors.js';
import { runPool } from '../util/pool.js';
import { checkHeaderIdentity } from './header-identity.js';
import { SNAPSHOTS_PREFIX } from './layout.js';
import type { ManifestHeader } from './manifest.js';
import type { ManifestCache } from './manifest-cache.js';
import { checkManifestBytes, decodeManifestHeader } from './manifest-codec.js';
import { salvageManifest } from './manifest-salvage.js';
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

/** What was proven of a manifest: these bytes are the repository's (at this ETag) and read in full. */
interface CheckRecord {
  size: number;
  etag: string;
  sha256: string;
}

/**
 * The headers of many snapshots, each from bytes proven to be the repository's own copy and read
 * in full (every entry, to the end of the gzip stream): what retention decides on must be what a
 * restore would read, not an intact local copy of a manifest damaged in the repository, nor a
 * header whose entries are lost. A cached copy counts as the repository's when the listing gives
 * its size and either its MD5 (S3's ETag of a plain upload) or the ETag it had when this machine
 * last read it in full (recorded in the cache); otherwise the repository's copy is downloaded.
 * A manifest read in full once is not parsed again while its bytes and ETag stay the same, so a
 * second run costs one listing and a hash of each cached manifest. A damaged manifest never
 * replaces the cached copy (which may be the only intact one left).
 */
export async function readCheckedHeaders(
  backend: Backend,
  cache: ManifestCache,
  refs: SnapshotRef[],
): Promise<CheckedManifests> {
  const listed = new Map<string, ObjectInfo>();
  for await (const object of backend.list(SNAPSHOTS_PREFIX)) listed.set(object.key, object);
  const outcomes: Array<{ header: ManifestHeader } | DamagedManifest | undefined> = new Array(refs.length);
  await runPool(
    refs.map((ref, index) => ({ ref, index })),
    8,
    async ({ ref, index }) => {
      const object = listed.get(ref.key);
      if (!object) return; // forgotten since the caller's listing
      try {
        outcomes[index] = { header: await checkedHeader(backend, cache, ref, object) };
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

async function checkedHeader(
  backend: Backend,
  cache: ManifestCache,
  ref: SnapshotRef,
  object: ObjectInfo,
): Promise<ManifestHeader> {
  const where = `${backend.location}/${ref.key}`;
  const cached = await cache.cached(ref);
  if (cached && cached.length === object.size) {
    const sha256 = hash('sha256', cached);
    const record = (await cache.readCheck(ref)) as Partial<CheckRecord> | undefined;
    const readBefore = record?.sha256 === sha256 && record.size === object.size;
    const md5 = plainMd5(object.etag);
    const theRepositorys =
      (readBefore && record?.etag === object.etag) || (md5 !== undefined && hash('md5', cached) === md5);
    if (theRepositorys) {
      const header = readBefore
        ? await decodeManifestHeader(Readable.from([cached]), where)
        : await checkManifestBytes(cached, where);
      checkHeaderIdentity(header, ref, where);
      if (!readBefore || record?.etag !== object.etag) {
        await remember(cache, ref, { size: object.size, etag: object.etag, sha256 });
      }
      return header;
    }
  }
  const data = await readAll(await backend.get(ref.key));
  const header = await checkManifestBytes(data, where);
  checkHeaderIdentity(header, ref, where);
  await cache.store(ref, data).catch(() => {});
  await remember(cache, ref, { size: data.length, etag: object.etag, sha256: hash('sha256', data) });
  return header;
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

async function remember(cache: ManifestCache, ref: SnapshotRef, record: CheckRecord): Promise<void> {
  // An unwritable cache only costs a full read next time.
  await cache.storeCheck(ref, record).catch(() => {});
}

/** The MD5 an ETag states, when it is a plain one (a single-part upload without SSE-KMS). */
function plainMd5(etag: string): string | undefined {
  const bare = etag.replace(/^"|"$/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}

function hash(algorithm: 'sha256' | 'md5', data: Buffer): string {
  return createHash(algorithm).update(data).digest('hex');
}
