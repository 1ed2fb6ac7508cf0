import { manifestDamaged } from './manifest-damage.js';
import { MAX_ENTRY_LINE, MAX_HEADER_LINE, MAX_INFLATED } from './manifest-limits.js';

const NEWLINE = 0x0a;

/**
 * Splits a manifest's inflated text into lines, chunk by chunk, holding at most one line: a line
 * longer than its bound (manifest-limits.ts) or more text in all than MAX_INFLATED makes the
 * manifest damaged, rather than a string too long for JavaScript. Lines are decoded as UTF-8 whole,
 * so a character split across two chunks stays intact.
 */
export class LineSplitter {
  /** The number of the line being read (the header is line 1). */
  lineNumber = 1;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private total = 0;
  /** The current line is over its bound: its bytes are dropped up to its end. */
  private skipping = false;
  /** The line last found over its bound (told once, though found both while kept and at its end). */
  private reported = -1;

  private readonly tooLong: ((lineNumber: number) => void) | undefined;
  private readonly maxTotal: number;

  /**
   * `tooLong` is told of a line over its bound, which is then left out; without it, such a line
   * makes the manifest damaged. `maxTotal` lowers MAX_INFLATED (for tests).
   */
  constructor(
    private readonly where: string,
    options: { tooLong?: (lineNumber: number) => void; maxTotal?: number } = {},
  ) {
    this.tooLong = options.tooLong;
    this.maxTotal = options.maxTotal ?? MAX_INFLATED;
  }

  push(chunk: Buffer, onLine: (line: string, lineNumber: number) => void): void {
    this.total += chunk.length;
    if (this.total > this.maxTotal) {
      throw manifestDamaged(
        this.where,
        `it inflates to more than ${formatSize(this.maxTotal)}, far beyond any real manifest`,
      );
    }
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) break;
      this.take(chunk, start, end, onLine);
      start = end + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** The last line, when the text does not end with a newline. */
  end(onLine: (line: string, lineNumber: number) => void): void {
    if (this.pendingLength > 0 || this.skipping) this.take(Buffer.alloc(0), 0, 0, onLine);
  }

  private take(chunk: Buffer, start: number, end: number, onLine: (line: string, n: number) => void) {
    const lineNumber = this.lineNumber++;
    if (this.skipping || this.pendingLength + end - start > this.limit(lineNumber)) {
      this.skipping = false;
      this.pending = [];
      this.pendingLength = 0;
      this.overLimit(lineNumber);
      return;
    }
    let line: string;
    if (this.pendingLength === 0) line = chunk.toString('utf8', start, end);
    else {
      this.pending.push(chunk.subarray(start, end));
      line = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
      this.pendingLength = 0;
    }
    onLine(line, lineNumber);
  }

  private keep(rest: Buffer): void {
    if (this.skipping) return;
    this.pendingLength += rest.length;
    if (this.pendingLength > this.limit(this.lineNumber)) {
      this.overLimit(this.lineNumber);
      this.pending = [];
      this.pendingLength = 0;
      this.skipping = true;
      return;
    }
    // A copy: a slice would keep the whole inflated chunk alive for a few bytes.
    this.pending.push(Buffer.from(rest));
  }

  private limit(lineNumber: number): number {
    return lineNumber === 1 ? MAX_HEADER_LINE : MAX_ENTRY_LINE;
  }

  private overLimit(lineNumber: number): void {
    if (this.reported === lineNumber) return;
    this.reported = lineNumber;
    if (!this.tooLong) {
      const limit = this.limit(lineNumber);
      throw manifestDamaged(
        this.where,
        `line ${lineNumber} is longer than ${formatSize(limit)}, far beyond any real ${lineNumber === 1 ? 'header' : 'entry'}`,
      );
    }
    this.tooLong(lineNumber);
  }
}

function formatSize(bytes: number): string {
  return bytes >= 2 ** 30
    ? `${bytes / 2 ** 30} GiB`
    : bytes >= 2 ** 20
      ? `${bytes / 2 ** 20} MiB`
      : `${bytes} bytes`;
}
