import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Backend } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { makePrivateFolder, PRIVATE_FILE } from '../fs/private-files.js';
import { checkHeaderIdentity } from './header-identity.js';
import type { Entry, ManifestHeader } from './manifest.js';
import { decodeManifestAll, decodeManifestHeader } from './manifest-codec.js';
import { indexFile, type ManifestIndexData, parseIndexFile } from './manifest-index.js';
import type { SnapshotRef } from './snapshots.js';

/**
 * Local copies of manifests (immutable once written), in the state folder. The local index of
 * DESIGN invariant 5: it saves downloads, never holds anything the repository lacks, and is
 * refilled from the repository when lost. Private to its user, as the manifests it copies
 * name every file (DESIGN invariant 9).
 *
 * header(), load() and bytes() trust a cached copy as it is: they serve a backup's own
 * bookkeeping (its parents, the dedup index), where an intact copy this machine wrote is as good
 * as the repository's, and better if that one was damaged since (the new snapshot then carries
 * its entries, intact). What a user is shown or a command decides on goes through
 * ProvenManifests (proven-manifests.ts), which uses a cached copy only when it is proven to be
 * the repository's current one.
 */
export class ManifestCache {
  constructor(readonly folder: string) {}

  static forRepository(stateFolder: string, repositoryId: string): ManifestCache {
    return new ManifestCache(join(stateFolder, 'index', repositoryId));
  }

  /** The manifest's bytes, from the cache or else downloaded (and then cached). */
  async bytes(backend: Backend, ref: SnapshotRef): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(ref));
    } catch {
      return this.download(backend, ref);
    }
  }

  /** The cached copy, if there is one: nothing is downloaded. */
  async cached(ref: SnapshotRef): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(ref));
    } catch {
      return undefined;
    }
  }

  private async download(backend: Backend, ref: SnapshotRef): Promise<Buffer> {
    const data = await readAll(await backend.get(ref.key));
    await this.store(ref, data).catch(() => {
      // An unwritable cache only costs a download next time.
    });
    return data;
  }

  /** Decodes cached bytes; a damaged cached copy (say, torn by a power cut) is fetched again. */
  private async decodeCached<T>(
    backend: Backend,
    ref: SnapshotRef,
    decode: (data: Buffer) => Promise<T> | T,
  ): Promise<T> {
    const data = await this.bytes(backend, ref);
    try {
      return await decode(data);
    } catch (err) {
      const fresh = await this.download(backend, ref);
      if (fresh.equals(data)) throw err; // the repository's copy is damaged itself
      return decode(fresh);
    }
  }

  /** A whole manifest as an array, decoded in one go (for parents and the blob index). */
  async load(backend: Backend, ref: SnapshotRef): Promise<{ header: ManifestHeader; entries: Entry[] }> {
    const where = `${backend.location}/${ref.key}`;
    return this.decodeCached(backend, ref, async (data) => {
      const manifest = await decodeManifestAll(data, where);
      checkHeaderIdentity(manifest.header, ref, where);
      return manifest;
    });
  }

  /** Only a manifest's header: the entries are not parsed. */
  async header(backend: Backend, ref: SnapshotRef): Promise<ManifestHeader> {
    const where = `${backend.location}/${ref.key}`;
    return this.decodeCached(backend, ref, async (data) => {
      const header = await decodeManifestHeader(Readable.from([data]), where);
      checkHeaderIdentity(header, ref, where);
      return header;
    });
  }

  async store(ref: SnapshotRef, data: Buffer): Promise<void> {
    const path = this.pathOf(ref);
    await makePrivateFolder(dirname(path));
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, data, { mode: PRIVATE_FILE });
    await rename(temp, path);
  }

  /** The local index of a manifest (manifest-index.ts), if there is a readable one. */
  async readIndex(ref: SnapshotRef): Promise<ManifestIndexData | undefined> {
    try {
      return parseIndexFile(await readFile(this.indexPathOf(ref)));
    } catch {
      return undefined; // missing or damaged: the manifest is read in full instead
    }
  }

  async storeIndex(ref: SnapshotRef, index: ManifestIndexData): Promise<void> {
    const path = this.indexPathOf(ref);
    await makePrivateFolder(dirname(path));
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, indexFile(index), { mode: PRIVATE_FILE });
    await rename(temp, path);
  }

  /**
   * Writes a new manifest and its local index under temporary names, so the writing overlaps the
   * upload; commit() puts them in place once the upload succeeded, discard() if it failed.
   */
  async stage(
    ref: SnapshotRef,
    data: Buffer,
    index: () => ManifestIndexData,
  ): Promise<{ commit(): Promise<void>; discard(): Promise<void> }> {
    const final = [this.pathOf(ref), this.indexPathOf(ref)];
    const temps = final.map((path) => `${path}.${process.pid}.tmp`);
    await makePrivateFolder(dirname(final[0]!));
    await writeFile(temps[0]!, data, { mode: PRIVATE_FILE });
    await writeFile(temps[1]!, indexFile(index()), { mode: PRIVATE_FILE });
    return {
      commit: async () => {
        for (let i = 0; i < final.length; i++) await rename(temps[i]!, final[i]!);
      },
      discard: async () => {
        for (const temp of temps) await rm(temp, { force: true });
      },
    };
  }

  /** What manifest-check.ts last proved of a manifest (a small JSON record), if anything. */
  async readCheck(ref: SnapshotRef): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.checkPathOf(ref), 'utf8'));
    } catch {
      return undefined;
    }
  }

  async storeCheck(ref: SnapshotRef, record: object): Promise<void> {
    const path = this.checkPathOf(ref);
    await makePrivateFolder(dirname(path));
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(record), { mode: PRIVATE_FILE });
    await rename(temp, path);
  }

  async dropIndex(ref: SnapshotRef): Promise<void> {
    await rm(this.indexPathOf(ref), { force: true });
  }

  /** Where the cached copy of a manifest is (or would be). */
  copyPath(ref: SnapshotRef): string {
    return this.pathOf(ref);
  }

  filePath(name: string): string {
    return join(this.folder, name);
  }

  private pathOf(ref: SnapshotRef): string {
    return join(this.folder, 'manifests', ref.host, `${ref.stamp}.json.gz`);
  }

  private checkPathOf(ref: SnapshotRef): string {
    return join(this.folder, 'manifests', ref.host, `${ref.stamp}.checked.json`);
  }

  private indexPathOf(ref: SnapshotRef): string {
    return join(this.folder, 'manifests', ref.host, `${ref.stamp}.index.json`);
  }
}
