import { Readable } from 'node:stream';
import type { Backend, ObjectInfo } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { NotFoundError } from '../errors.js';
import { checkHeaderIdentity } from './header-identity.js';
import { parseManifestKey, SNAPSHOTS_PREFIX } from './layout.js';
import type { ManifestHeader } from './manifest.js';
import type { ManifestCache } from './manifest-cache.js';
import {
  checkManifestBytes,
  type DecodedManifest,
  decodeManifestBytes,
  decodeManifestHeader,
} from './manifest-codec.js';
import { provenCachedCopy, recordProof, wasReadInFull } from './manifest-proof.js';
import { refFor, type SnapshotRef, sortRefs } from './snapshots.js';

/**
 * The repository's manifests as one listing of `.twinvault/snapshots/` found them, read through
 * the local cache only where the cached copy is proven to be the repository's (manifest-proof.ts).
 * What a user is shown or a command decides on (a listing, `ls`, `diff`, which snapshot `latest`
 * means) must be what a fresh machine, and a restore, would read: an intact cached copy of a
 * manifest damaged in the repository since must not hide the damage. (A backup builds on cached
 * copies as they are: ManifestCache.header and load.)
 *
 * Cost: a cached copy is proven by a hash of its bytes; a listing then reads only its header,
 * never every entry. A copy not in the cache is downloaded and cached with its proof. A cached
 * copy that differs from the repository's is replaced only by a copy read in full without damage,
 * so a damaged manifest never overwrites what may be the last intact copy (restore.ts may use it).
 */
export class ProvenManifests {
  private constructor(
    private readonly backend: Backend,
    private readonly cache: ManifestCache,
    private readonly listed: Map<string, ObjectInfo>,
    /** Every snapshot listed, oldest first (as listSnapshots). */
    readonly refs: SnapshotRef[],
  ) {}

  static async list(backend: Backend, cache: ManifestCache): Promise<ProvenManifests> {
    const listed = new Map<string, ObjectInfo>();
    const refs: SnapshotRef[] = [];
    for await (const object of backend.list(SNAPSHOTS_PREFIX)) {
      const parsed = parseManifestKey(object.key);
      if (!parsed) continue;
      listed.set(object.key, object);
      refs.push(refFor(parsed.host, parsed.stamp));
    }
    return new ProvenManifests(backend, cache, listed, sortRefs(refs));
  }

  /** A manifest's header (its entries are not read), from the repository's copy. */
  async header(ref: SnapshotRef): Promise<ManifestHeader> {
    const { data } = await this.copy(ref, 'header');
    return this.headerOf(data, ref);
  }

  /**
   * A manifest's header from the repository's copy read in full (every entry, to the end): what
   * retention decides on. A copy read in full once is not read again while it stays the same.
   */
  async checkedHeader(ref: SnapshotRef): Promise<ManifestHeader> {
    const { data, readInFull, object } = await this.copy(ref, 'full');
    if (readInFull) return this.headerOf(data, ref);
    const header = await checkManifestBytes(data, this.where(ref));
    checkHeaderIdentity(header, ref, this.where(ref));
    await recordProof(this.cache, ref, object, data, true);
    return header;
  }

  /** A whole manifest from the repository's copy: damage shows as an IntegrityError, when read. */
  async open(ref: SnapshotRef): Promise<DecodedManifest> {
    const { data } = await this.copy(ref, 'full');
    const manifest = await decodeManifestBytes(data, this.where(ref));
    checkHeaderIdentity(manifest.header, ref, this.where(ref));
    return manifest;
  }

  private async headerOf(data: Buffer, ref: SnapshotRef): Promise<ManifestHeader> {
    const header = await decodeManifestHeader(Readable.from([data]), this.where(ref));
    checkHeaderIdentity(header, ref, this.where(ref));
    return header;
  }

  /**
   * The repository's bytes of a manifest: the cached copy when proven, else downloaded (and cached
   * with its proof). `need`: whether the caller reads only the header or the whole manifest.
   */
  private async copy(
    ref: SnapshotRef,
    need: 'header' | 'full',
  ): Promise<{ data: Buffer; readInFull: boolean; object: ObjectInfo }> {
    const object = this.listed.get(ref.key);
    if (!object) throw new NotFoundError(`${this.where(ref)} is not in the repository (forgotten?)`);
    const proven = await provenCachedCopy(this.cache, ref, object);
    if (proven) return { ...proven, object };
    const data = await readAll(await this.backend.get(ref.key));
    const cached = await this.cache.cached(ref);
    if (!cached || cached.equals(data)) {
      // Nothing cached yet, or the same bytes as cached: proven now.
      const readInFull = cached ? await wasReadInFull(this.cache, ref, data) : false;
      await this.keep(ref, object, data, readInFull, !cached);
      return { data, readInFull, object };
    }
    // The repository's copy changed (damaged or replaced), or the local one did. A header is read
    // from the repository's copy, as a fresh machine would; the cached copy is replaced only by a
    // copy read in full without damage (a damaged one throws here, named).
    if (need === 'header') return { data, readInFull: false, object };
    const header = await checkManifestBytes(data, this.where(ref));
    checkHeaderIdentity(header, ref, this.where(ref));
    await this.keep(ref, object, data, true, true);
    return { data, readInFull: true, object };
  }

  private async keep(
    ref: SnapshotRef,
    object: ObjectInfo,
    data: Buffer,
    readInFull: boolean,
    store: boolean,
  ): Promise<void> {
    try {
      if (store) await this.cache.store(ref, data);
    } catch {
      return; // An unwritable cache only costs a download next time.
    }
    await recordProof(this.cache, ref, object, data, readInFull);
  }

  private where(ref: SnapshotRef): string {
    return `${this.backend.location}/${ref.key}`;
  }
}
