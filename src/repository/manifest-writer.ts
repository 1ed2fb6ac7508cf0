import { gzip, gzipSync } from 'node:zlib';
import type { ManifestHeader } from './manifest.js';

/** How block ends are chosen; an index written under another rule is not reused. */
export const BLOCK_RULE = 'fnv1a32%64,max1024';
const BOUNDARY_MASK = 63;
const MAX_BLOCK_ENTRIES = 1024;
/** A third faster than the default level, for a few percent more bytes. */
const LEVEL = 3;
/** Blocks being compressed at once: enough for every core, few enough to hold little text. */
const IN_FLIGHT = 4;

/** One gzip member of entry lines. */
export interface ManifestBlock {
  /** Compressed length in bytes. */
  length: number;
  entries: number;
}

export interface WrittenManifest {
  data: Buffer;
  /** Compressed length of the header's member, which comes first. */
  headerLength: number;
  blocks: ManifestBlock[];
}

/**
 * Writes a manifest as a series of gzip members: the header alone, then blocks of entry lines.
 * Gzip allows any number of members and every gunzip reads them as one stream, so the format is
 * unchanged (docs/FORMAT.md). Where a block ends depends only on the path of its last entry (and a
 * size cap), so a block of a parent snapshot whose lines all carry over unchanged comes out the
 * same, and is copied still compressed: a snapshot where little changed costs little to write.
 */
export class ManifestWriter {
  private lines: string[] = [];
  private readonly parts: Array<Buffer | Promise<Buffer>> = [];
  private readonly blocks: ManifestBlock[] = [];
  private entries = 0;
  private compressing = 0;
  private waiting: (() => void) | undefined;

  /** True when the next line starts a block, the only place a compressed block can be added. */
  get atBlockStart(): boolean {
    return this.lines.length === 0;
  }

  add(line: string, sortPath: string): void {
    this.lines.push(line);
    if (this.lines.length >= MAX_BLOCK_ENTRIES || endsBlock(sortPath)) this.closeBlock();
  }

  /** Resolves once few enough blocks are being compressed: await it between additions. */
  async ready(): Promise<void> {
    while (this.compressing >= IN_FLIGHT) await new Promise<void>((resolve) => (this.waiting = resolve));
  }

  /** A whole block of an earlier manifest, compressed, holding exactly the lines that come next. */
  addCompressedBlock(data: Buffer, entries: number): void {
    if (!this.atBlockStart) throw new Error('a compressed block can only be added at a block start');
    this.parts.push(data);
    this.blocks.push({ length: data.length, entries });
    this.entries += entries;
  }

  async finish(header: ManifestHeader): Promise<WrittenManifest> {
    this.closeBlock();
    if (this.entries !== header.entries)
      throw new Error(`manifest header says ${header.entries} entries but ${this.entries} were written`);
    const head = gzipSync(`${JSON.stringify(header)}\n`, { level: LEVEL });
    const body = await Promise.all(this.parts);
    for (let i = 0; i < body.length; i++) this.blocks[i]!.length = body[i]!.length;
    return { data: Buffer.concat([head, ...body]), headerLength: head.length, blocks: this.blocks };
  }

  private closeBlock(): void {
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.blocks.push({ length: 0, entries: this.lines.length });
    this.entries += this.lines.length;
    // On the thread pool: blocks compress in parallel with each other and with this thread.
    this.compressing++;
    const compressed = new Promise<Buffer>((resolve, reject) =>
      gzip(text, { level: LEVEL }, (err, data) => {
        this.compressing--;
        this.waiting?.();
        this.waiting = undefined;
        if (err) reject(err);
        else resolve(data);
      }),
    );
    compressed.catch(() => {}); // awaited in finish(); a run that fails first never asks
    this.parts.push(compressed);
    this.lines = [];
  }
}

/** FNV-1a of the path's UTF-16 units: cheap, and stable across runs and machines. */
export function endsBlock(sortPath: string): boolean {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sortPath.length; i++) {
    hash ^= sortPath.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash & BOUNDARY_MASK) === 0;
}
