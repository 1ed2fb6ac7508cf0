import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { Backend } from '../backend/backend.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import type { SnapshotRef } from '../repository/snapshots.js';

const FILE = 'blobs.json';

interface StoredIndex {
  version: 1;
  manifests: string[];
  blobs: Array<[string, string]>;
}

/**
 * Which object holds content with a given SHA-256, over every snapshot in the repository: what
 * lets a backup reference content instead of uploading it again. Derived from manifests only, so
 * it can always be rebuilt; kept in the state folder between runs.
 */
export class BlobIndex {
  private constructor(
    private readonly blobs: Map<string, string>,
    private readonly manifests: Set<string>,
    private readonly cache: ManifestCache,
  ) {}

  /**
   * Loads the saved index and brings it up to date with `refs` (every snapshot in the repository
   * now). When a snapshot it knew is gone (forgotten), objects only that snapshot referenced may be
   * gone too, so it is rebuilt from the remaining manifests.
   */
  static async load(cache: ManifestCache, backend: Backend, refs: SnapshotRef[]): Promise<BlobIndex> {
    const stored = await readStored(cache);
    const current = new Set(refs.map((ref) => ref.key));
    const usable = stored?.manifests.every((key) => current.has(key)) ? stored : undefined;
    const index = new BlobIndex(new Map(usable?.blobs ?? []), new Set(usable?.manifests ?? []), cache);
    for (const ref of refs) if (!index.manifests.has(ref.key)) await index.addManifest(backend, ref);
    return index;
  }

  get(sha256: string): string | undefined {
    return this.blobs.get(sha256);
  }

  add(sha256: string, key: string): void {
    if (!this.blobs.has(sha256)) this.blobs.set(sha256, key);
  }

  async addManifest(backend: Backend, ref: SnapshotRef): Promise<void> {
    const { entries } = await this.cache.load(backend, ref);
    for (const entry of entries) if (entry.type === 'file') this.add(entry.sha256, entry.key);
    this.manifests.add(ref.key);
  }

  markManifest(ref: SnapshotRef): void {
    this.manifests.add(ref.key);
  }

  async save(): Promise<void> {
    const stored: StoredIndex = { version: 1, manifests: [...this.manifests], blobs: [...this.blobs] };
    const path = this.cache.filePath(FILE);
    await mkdir(this.cache.folder, { recursive: true });
    await writeFile(`${path}.tmp`, JSON.stringify(stored));
    await rename(`${path}.tmp`, path);
  }
}

async function readStored(cache: ManifestCache): Promise<StoredIndex | undefined> {
  try {
    const stored = JSON.parse(await readFile(cache.filePath(FILE), 'utf8')) as StoredIndex;
    return stored.version === 1 && Array.isArray(stored.manifests) && Array.isArray(stored.blobs)
      ? stored
      : undefined;
  } catch {
    return undefined; // missing or damaged: rebuilt from manifests
  }
}
