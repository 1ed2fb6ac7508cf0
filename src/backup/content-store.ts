import type { Backend } from '../backend/backend.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import { BlobIndex } from './blob-index.js';
import type { ContentStore } from './file-saver.js';
import type { Leftovers } from './leftovers.js';
import { StoredCheck } from './missing-objects.js';

/**
 * The ContentStore of one backup run: the repository-wide blob index, loaded only when the first
 * new or changed file needs it (a run with no changes never pays for it), plus uploads in flight.
 */
export class RunContentStore implements ContentStore {
  private index: Promise<BlobIndex> | undefined;
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly written = new Set<string>();

  constructor(
    private readonly backend: Backend,
    private readonly cache: ManifestCache,
    private readonly snapshots: SnapshotRef[],
    private readonly leftovers?: Leftovers,
    /** What the run knows of what is stored (missing-objects.ts): no dedup against a gone object. */
    private readonly stored: StoredCheck = StoredCheck.skipped(),
  ) {}

  async find(sha256: string): Promise<string | undefined> {
    return (await this.loadIndex()).get(sha256);
  }

  async store(sha256: string, upload: () => Promise<string>): Promise<{ key: string; uploaded: boolean }> {
    const index = await this.loadIndex();
    const known = index.get(sha256);
    if (known && (await this.stored.holds(known))) return { key: known, uploaded: false };
    const pending = this.inFlight.get(sha256);
    if (pending) {
      // Another file with this content is being uploaded. If that fails (it changed, it vanished),
      // this file uploads its own copy rather than inherit a failure that is not its own.
      const key = await pending.catch(() => undefined);
      if (key !== undefined) return { key, uploaded: false };
      return this.store(sha256, upload);
    }
    const started = upload().then((key) => {
      // Replaces a gone key, so later runs do not point at it again.
      if (known) index.replace(sha256, key);
      else index.add(sha256, key);
      return key;
    });
    this.inFlight.set(sha256, started);
    try {
      return { key: await started, uploaded: true };
    } finally {
      this.inFlight.delete(sha256);
    }
  }

  leftover(key: string, size: number, sha256: string): Promise<string | undefined> {
    return this.leftovers?.find(key, size, sha256) ?? Promise.resolve(undefined);
  }

  firstWriteOf(key: string): boolean {
    if (this.written.has(key)) return false;
    this.written.add(key);
    return true;
  }

  /** Records the run's own manifest in the saved index, if the index was loaded at all. */
  async finish(ref: SnapshotRef): Promise<void> {
    if (!this.index) return;
    const index = await this.index;
    index.markManifest(ref);
    await index.save();
  }

  private loadIndex(): Promise<BlobIndex> {
    this.index ??= BlobIndex.load(this.cache, this.backend, this.snapshots);
    return this.index;
  }
}
