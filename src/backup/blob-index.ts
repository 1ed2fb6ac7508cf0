import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Backend } from '../backend/backend.js';
import { isTwinvaultError } from '../errors.js';
import { makePrivateFolder, PRIVATE_FILE } from '../fs/private-files.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import type { SnapshotRef } from '../repository/snapshots.js';

const FILE = 'blobs.idx';
/** The first format, JSON; replaced by FILE and removed when seen. */
const OLD_FILE = 'blobs.json';
const DIGEST = 32;

interface Sorted {
  /** SHA-256 digests, 32 bytes each, in ascending byte order. */
  digests: Buffer;
  /** The key holding each digest's content, in the same order. */
  keys: string[];
}

/**
 * Which object holds content with a given SHA-256, over every snapshot in the repository: what
 * lets a backup reference content instead of uploading it again. Derived from manifests only, so
 * it can always be rebuilt; kept in the state folder between runs.
 *
 * Stored as sorted raw digests (binary search, nothing to parse) plus the keys as NUL-joined text:
 * for a hundred thousand files that loads about ten times faster than the JSON it replaced. What a
 * run adds is kept in a Map and merged in when saved.
 */
export class BlobIndex {
  private readonly added = new Map<string, string>();

  private constructor(
    private readonly sorted: Sorted,
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
    const index = new BlobIndex(
      usable?.sorted ?? { digests: Buffer.alloc(0), keys: [] },
      new Set(usable?.manifests ?? []),
      cache,
    );
    // In key order, so each host's snapshots come (nearly) oldest first. Marking below can only
    // leave content out of the index (it is then uploaded again), never point at missing content.
    for (const ref of refs) {
      if (index.manifests.has(ref.key)) continue;
      try {
        const { parent, summary } = await cache.header(backend, ref);
        // A snapshot that stored nothing references only what its parents (older snapshots of its
        // host, added before it) did: its header says so, and its entries need not be read. (Were a
        // parent forgotten meanwhile, that content would only be missing here: uploaded again.)
        if (parent && summary.newFiles === 0 && summary.changedFiles === 0 && summary.bytesUploaded === 0)
          index.markManifest(ref);
        else await index.addManifest(backend, ref);
      } catch (err) {
        // A damaged manifest (of any host) only leaves its content out of the index, so it may be
        // uploaded again; it is not marked, so a repaired one is read next time.
        if (!isTwinvaultError(err) || err.code !== 'INTEGRITY') throw err;
      }
    }
    return index;
  }

  get(sha256: string): string | undefined {
    return this.added.get(sha256) ?? this.findSorted(sha256);
  }

  add(sha256: string, key: string): void {
    if (this.get(sha256) === undefined) this.added.set(sha256, key);
  }

  /** Another key for this content, because the one known is gone from the store. */
  replace(sha256: string, key: string): void {
    this.added.set(sha256, key);
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
    const { digests, keys } = this.merged();
    const head = JSON.stringify({ version: 2, manifests: [...this.manifests], count: keys.length });
    const path = this.cache.filePath(FILE);
    await makePrivateFolder(this.cache.folder);
    // Written in parts, not concatenated first: this runs when a backup's memory peaks.
    await writeFile(`${path}.tmp`, [Buffer.from(`${head}\n`), digests, Buffer.from(keys.join('\0'))], {
      mode: PRIVATE_FILE,
    });
    await rename(`${path}.tmp`, path);
    await rm(this.cache.filePath(OLD_FILE), { force: true });
  }

  private findSorted(sha256: string): string | undefined {
    const { digests } = this.sorted;
    const target = Buffer.from(sha256, 'hex');
    if (target.length !== DIGEST) return undefined;
    let low = 0;
    let high = digests.length / DIGEST - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const order = digests.compare(target, 0, DIGEST, middle * DIGEST, (middle + 1) * DIGEST);
      if (order === 0) return this.sorted.keys[middle];
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  /** The stored entries and this run's (which win: replace()), merged in digest order. */
  private merged(): { digests: Buffer; keys: string[] } {
    const fresh = [...this.added].map(([sha, key]) => ({ digest: Buffer.from(sha, 'hex'), key }));
    fresh.sort((a, b) => Buffer.compare(a.digest, b.digest));
    const old = this.sorted.digests;
    const oldKeys = this.sorted.keys;
    const count = oldKeys.length + fresh.length;
    const digests = Buffer.allocUnsafe(count * DIGEST);
    const keys: string[] = [];
    let i = 0;
    let j = 0;
    while (i < oldKeys.length || j < fresh.length) {
      const takeOld =
        j >= fresh.length ||
        (i < oldKeys.length && old.compare(fresh[j]!.digest, 0, DIGEST, i * DIGEST, (i + 1) * DIGEST) < 0);
      if (takeOld) {
        old.copy(digests, keys.length * DIGEST, i * DIGEST, (i + 1) * DIGEST);
        keys.push(oldKeys[i++]!);
      } else {
        const same =
          i < oldKeys.length && old.compare(fresh[j]!.digest, 0, DIGEST, i * DIGEST, (i + 1) * DIGEST) === 0;
        if (same) i++; // replaced
        fresh[j]!.digest.copy(digests, keys.length * DIGEST);
        keys.push(fresh[j++]!.key);
      }
    }
    return { digests: digests.subarray(0, keys.length * DIGEST), keys };
  }
}

async function readStored(
  cache: ManifestCache,
): Promise<{ manifests: string[]; sorted: Sorted } | undefined> {
  try {
    const file = await readFile(cache.filePath(FILE));
    const newline = file.indexOf(0x0a);
    const head = JSON.parse(file.toString('utf8', 0, newline)) as {
      version: number;
      manifests: string[];
      count: number;
    };
    const start = newline + 1;
    const end = start + head.count * DIGEST;
    if (head.version !== 2 || !Array.isArray(head.manifests) || end > file.length) return undefined;
    const keys = head.count === 0 ? [] : file.toString('utf8', end).split('\0');
    if (keys.length !== head.count) return undefined;
    return { manifests: head.manifests, sorted: { digests: file.subarray(start, end), keys } };
  } catch {
    return undefined; // missing or damaged: rebuilt from manifests
  }
}
