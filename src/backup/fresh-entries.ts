import { compareKeys } from '../backend/keys.js';

const CHUNK_BYTES = 1 << 20;

export interface FreshEntry {
  path: string;
  pathBytes: string | undefined;
  line: string;
  signature: string;
}

/**
 * The entries a backup made itself (new, changed and re-read files, folders, links), kept until
 * the manifest is written. Their manifest lines and signatures are held as UTF-8 in large buffers
 * outside the JavaScript heap: as strings they were about 1 KB per file in many small pieces, and
 * the garbage collector lets the heap grow to a multiple of what is live, so an initial backup of
 * 100,000 files peaked near 700 MB. Only the paths stay strings, to be sorted.
 */
export class FreshEntries {
  private readonly paths: string[] = [];
  /** Per entry: chunk number, start and end of its text there. */
  private readonly places: number[] = [];
  private readonly chunks: Buffer[] = [];
  private used = CHUNK_BYTES;
  private order: number[] = [];

  get size(): number {
    return this.paths.length;
  }

  add(entry: FreshEntry): void {
    const text = `${entry.pathBytes ?? ''}\0${entry.signature}\0${entry.line}`;
    const length = Buffer.byteLength(text);
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || this.used + length > chunk.length) {
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, length));
      this.chunks.push(chunk);
      this.used = 0;
    }
    chunk.write(text, this.used);
    this.paths.push(flatCopy(entry.path));
    this.places.push(this.chunks.length - 1, this.used, this.used + length);
    this.used += length;
  }

  /** Puts the entries in path order, for path(n) and entry(n). */
  sort(): void {
    const paths = this.paths;
    this.order = Array.from(paths.keys()).sort((a, b) => compareKeys(paths[a]!, paths[b]!));
  }

  path(n: number): string {
    return this.paths[this.order[n]!]!;
  }

  /** Each field decoded on its own, so that keeping a signature does not keep the whole line. */
  entry(n: number): FreshEntry {
    const i = this.order[n]!;
    const chunk = this.chunks[this.places[i * 3]!]!;
    const start = this.places[i * 3 + 1]!;
    const first = chunk.indexOf(0, start);
    const second = chunk.indexOf(0, first + 1);
    return {
      path: this.paths[i]!,
      pathBytes: first > start ? chunk.toString('latin1', start, first) : undefined,
      signature: chunk.toString('latin1', first + 1, second),
      line: chunk.toString('utf8', second + 1, this.places[i * 3 + 2]),
    };
  }
}

/**
 * A copy of `text` that shares no memory with it. A scan record's path is a slice of the batch
 * it came in, and keeping the slice would keep the whole batch (stat texts and all).
 */
function flatCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
