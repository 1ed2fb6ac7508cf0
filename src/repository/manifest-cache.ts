import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { Backend } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { type DecodedManifest, decodeManifest } from './manifest-codec.js';
import type { SnapshotRef } from './snapshots.js';

/**
 * Local copies of manifests (immutable once written), in the state folder. The local index of
 * DESIGN invariant 5: it saves downloads, never holds anything the repository lacks, and is
 * refilled from the repository when lost.
 */
export class ManifestCache {
  constructor(readonly folder: string) {}

  static forRepository(stateFolder: string, repositoryId: string): ManifestCache {
    return new ManifestCache(join(stateFolder, 'index', repositoryId));
  }

  /** The manifest's bytes, from the cache or else downloaded (and then cached). */
  async bytes(backend: Backend, ref: SnapshotRef): Promise<Buffer> {
    const path = this.pathOf(ref);
    try {
      return await readFile(path);
    } catch {
      const data = await readAll(await backend.get(ref.key));
      await this.store(ref, data).catch(() => {
        // An unwritable cache only costs a download next time.
      });
      return data;
    }
  }

  async open(backend: Backend, ref: SnapshotRef): Promise<DecodedManifest> {
    const data = await this.bytes(backend, ref);
    return decodeManifest(Readable.from([data]), `${backend.location}/${ref.key}`);
  }

  async store(ref: SnapshotRef, data: Buffer): Promise<void> {
    const path = this.pathOf(ref);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, data);
    await rename(temp, path);
  }

  filePath(name: string): string {
    return join(this.folder, name);
  }

  private pathOf(ref: SnapshotRef): string {
    return join(this.folder, 'manifests', ref.host, `${ref.stamp}.json.gz`);
  }
}
