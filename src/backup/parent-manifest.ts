import { gunzipSync } from 'node:zlib';
import type { Backend } from '../backend/backend.js';
import { IntegrityError } from '../errors.js';
import type { Entry, ManifestHeader } from '../repository/manifest.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import { parseEntry, parseHeader, rawLineOf } from '../repository/manifest-codec.js';
import { indexMatches, type ManifestIndexData } from '../repository/manifest-index.js';
import type { SnapshotRef } from '../repository/snapshots.js';
import { entrySignature, lookupKey } from './scan/records.js';

interface Blocks {
  data: Buffer;
  /** Entry number each block starts at, ascending. */
  starts: number[];
  /** Byte offset of each block in data. */
  offsets: number[];
  counts: number[];
  /** Block number by its starting entry. */
  byStart: Map<number, number>;
}

/**
 * A snapshot the new one builds on: its entries' paths and signatures (records.ts), a way to get
 * an entry's exact manifest line, and, when this machine wrote it, its compressed blocks. Entries
 * are used only by number; `carried` marks those that go into the new snapshot unchanged.
 */
export class ParentManifest {
  readonly carried: Uint8Array;
  private keys: Map<string, number> | undefined;
  private decoded: { block: number; lines: string[] } | undefined;

  private constructor(
    readonly ref: SnapshotRef,
    readonly header: ManifestHeader,
    private readonly paths: string[],
    private readonly pathBytes: Record<string, string>,
    private readonly signatures: string[],
    private readonly lines: string[] | undefined,
    private readonly blocks: Blocks | undefined,
  ) {
    this.carried = new Uint8Array(paths.length);
  }

  /**
   * From the local cache: through the manifest's local index when there is one that matches it
   * (no parsing), else by decoding the manifest in full (downloaded if not cached).
   */
  static async load(backend: Backend, cache: ManifestCache, ref: SnapshotRef): Promise<ParentManifest> {
    const where = `${backend.location}/${ref.key}`;
    const index = await cache.readIndex(ref);
    if (index) {
      const data = await cache.bytes(backend, ref);
      try {
        if (indexMatches(index, data)) return ParentManifest.fromIndex(ref, data, index, where);
      } catch {
        // An index that does not fit its manifest: it is only a cache, the manifest is the truth.
      }
      await cache.dropIndex(ref).catch(() => {});
    }
    const { header, entries } = await cache.load(backend, ref);
    const pathBytes: Record<string, string> = {};
    entries.forEach((entry, i) => {
      if (entry.pathBytes !== undefined) pathBytes[i] = entry.pathBytes;
    });
    return new ParentManifest(
      ref,
      header,
      entries.map((entry) => entry.path),
      pathBytes,
      entries.map(entrySignature),
      entries.map((entry) => rawLineOf(entry) ?? JSON.stringify(entry)),
      undefined,
    );
  }

  private static fromIndex(
    ref: SnapshotRef,
    data: Buffer,
    index: ManifestIndexData,
    where: string,
  ): ParentManifest {
    const headerText = gunzipSync(data.subarray(0, index.headerLength)).toString('utf8');
    const header = parseHeader(headerText.trimEnd(), where);
    const blocks: Blocks = { data, starts: [], offsets: [], counts: [], byStart: new Map() };
    let offset = index.headerLength;
    let start = 0;
    for (const [length, count] of index.blocks) {
      blocks.byStart.set(start, blocks.starts.length);
      blocks.starts.push(start);
      blocks.offsets.push(offset);
      blocks.counts.push(count);
      offset += length;
      start += count;
    }
    return new ParentManifest(ref, header, index.paths, index.pathBytes, index.signatures, undefined, blocks);
  }

  get size(): number {
    return this.paths.length;
  }

  /** How many files the snapshot holds in one source: what emptying it would drop. */
  filesIn(source: string): number {
    const prefix = `${source}/`;
    let files = 0;
    for (let i = 0; i < this.paths.length; i++) {
      if (!this.paths[i]!.startsWith(prefix)) continue;
      const signature = this.signatures[i]!;
      // Hard-linked files and symlinks have no signature: their entry says which they are.
      if (signature.startsWith('f/') || (signature === '' && this.entry(i).type === 'file')) files++;
    }
    return files;
  }

  /** Entries whose object the store no longer has (missing-objects.ts): never carried over. */
  private gone: Set<number> | undefined;

  markGone(i: number): void {
    this.gone ??= new Set();
    this.gone.add(i);
  }

  isGone(i: number): boolean {
    return this.gone?.has(i) ?? false;
  }

  /** The entry number of a path (lookupKey), if the snapshot has it. */
  indexOf(key: string): number | undefined {
    if (!this.keys) {
      this.keys = new Map();
      for (let i = 0; i < this.paths.length; i++) {
        this.keys.set(lookupKey(this.paths[i]!, this.pathBytes[i]), i);
      }
    }
    return this.keys.get(key);
  }

  path(i: number): string {
    return this.paths[i]!;
  }

  pathBytesOf(i: number): string | undefined {
    return this.pathBytes[i];
  }

  signature(i: number): string {
    return this.signatures[i]!;
  }

  line(i: number): string {
    if (this.lines) return this.lines[i]!;
    const blocks = this.blocks!;
    const block = blockOf(blocks.starts, i);
    if (this.decoded?.block !== block) {
      const start = blocks.offsets[block]!;
      const end = block + 1 < blocks.offsets.length ? blocks.offsets[block + 1]! : blocks.data.length;
      const lines = gunzipSync(blocks.data.subarray(start, end)).toString('utf8').split('\n');
      if (lines.pop() !== '' || lines.length !== blocks.counts[block])
        throw new LocalIndexError(this.ref, `it does not match block ${block} of the manifest`);
      this.decoded = { block, lines };
    }
    return this.decoded.lines[i - blocks.starts[block]!]!;
  }

  entry(i: number): Entry {
    return parseEntry(this.line(i), this.ref.key, i + 2);
  }

  /** The compressed block that starts at entry `i`, if one does and this machine wrote it. */
  blockAt(i: number): { data: Buffer; entries: number } | undefined {
    const block = this.blocks?.byStart.get(i);
    if (block === undefined) return undefined;
    const blocks = this.blocks!;
    const start = blocks.offsets[block]!;
    const end = block + 1 < blocks.offsets.length ? blocks.offsets[block + 1]! : blocks.data.length;
    return { data: blocks.data.subarray(start, end), entries: blocks.counts[block]! };
  }
}

/** The local index of a parent does not fit its manifest: the run fails, the index is dropped. */
export class LocalIndexError extends IntegrityError {
  constructor(
    readonly ref: SnapshotRef,
    what: string,
  ) {
    super(`the local index of snapshot ${ref.host}/${ref.stamp} is damaged: ${what}`, {
      hint: 'it has been removed; run the backup again (it will read the snapshot in full)',
    });
  }
}

function blockOf(starts: number[], entry: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= entry) low = middle;
    else high = middle - 1;
  }
  return low;
}
