import { constants, gunzipSync, inflateRawSync } from 'node:zlib';
import type { Entry, ManifestHeader } from './manifest.js';
import { parseEntry, parseHeader } from './manifest-codec.js';
import { manifestDamaged } from './manifest-damage.js';
import { MAX_IN_MEMORY_INFLATED, MAX_INFLATED } from './manifest-limits.js';
import { LineSplitter } from './manifest-lines.js';
import { EntryOrder } from './manifest-order.js';

/** What could be read of a damaged manifest. */
export interface SalvagedManifest {
  header: ManifestHeader;
  /** The entries that read, in path order, each path once. */
  entries: Entry[];
  /** Entries the header lists that could not be read (lost to damaged bytes, or unreadable lines). */
  lost: number;
  /** What was wrong, the first few: unreadable lines, damaged byte ranges. */
  problems: string[];
}

const MAX_PROBLEMS = 20;

/**
 * Reads what can be read of a damaged manifest (the tolerant reading the strict decoders refuse):
 * a line that does not parse, is too long, out of order or a repeat is left out; a gzip member that
 * does not inflate, or fails its CRC-32, is given up and reading goes on at the next member that
 * inflates in full with a correct CRC-32 (twinvault writes entries in members of at most 1,024
 * lines, manifest-writer.ts, so damage costs one block). A stream cut short gives everything before
 * the cut. Only a header that cannot be read leaves nothing to salvage: an IntegrityError.
 */
export function salvageManifest(gz: Buffer, where: string): SalvagedManifest {
  const problems: string[] = [];
  const note = (problem: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };
  let header: ManifestHeader | undefined;
  const entries: Entry[] = [];
  const order = new EntryOrder();
  let gap = false;
  const onLine = (line: string, lineNumber: number) => {
    const at = gap ? `a line after the damaged bytes` : `line ${lineNumber}`;
    if (lineNumber === 1 && !gap) {
      header = parseHeader(line, where);
      return;
    }
    if (line === '') return;
    try {
      const entry = parseEntry(line, where, lineNumber);
      const wrong = order.check(entry, lineNumber);
      if (wrong) note(`${at}: ${wrong}`);
      else entries.push(entry);
    } catch (err) {
      // "line 7 is not valid JSON", "line 7: entry … lacks mode": said again with `at`.
      const what = (err as Error).message.replace(/^manifest .* is damaged: /, '');
      note(what.replace(/^line \d+/, at));
    }
  };
  let splitter = newSplitter(where, note, () => gap);
  let inflated = 0;
  for (const part of members(gz)) {
    inflated += part.text.length;
    if (inflated > MAX_INFLATED) {
      note(`it inflates to more than ${MAX_INFLATED / 2 ** 30} GiB; the rest was not read`);
      break;
    }
    if (part.skipped) {
      note(`bytes ${part.skipped.from}-${part.skipped.to} are not gzip data and were skipped`);
      // What came before the damage ends with it: a partial last line is not an entry.
      splitter = newSplitter(where, note, () => gap);
      gap = true;
    }
    try {
      splitter.push(part.text, onLine);
    } catch (err) {
      if (!header) throw err;
      note((err as Error).message);
      break;
    }
    if (part.damage) {
      note(`bytes from ${part.damage.at} cannot be inflated (${part.damage.message})`);
      if (!header) break;
      splitter = newSplitter(where, note, () => gap);
      gap = true;
    }
  }
  splitter.end(onLine);
  if (!header) {
    throw manifestDamaged(
      where,
      inflated === 0 ? 'nothing in it can be inflated' : 'its header cannot be read',
    );
  }
  if (entries.length > header.entries)
    note(`it holds ${entries.length} entries where its header says ${header.entries}`);
  return { header, entries, lost: Math.max(0, header.entries - entries.length), problems };
}

function newSplitter(where: string, note: (problem: string) => void, afterGap: () => boolean): LineSplitter {
  return new LineSplitter(where, {
    tooLong: (n) =>
      note(`${afterGap() ? 'a line after the damaged bytes' : `line ${n}`} is too long to be an entry`),
  });
}

interface MemberText {
  text: Buffer;
  /** The member could not be inflated to its end: `text` is what can be trusted of it. */
  damage?: { at: number; message: string };
  /** Bytes before this member that belong to no member that inflates. */
  skipped?: { from: number; to: number };
}

/** The text of each gzip member in turn, and where damage interrupts them. */
function* members(gz: Buffer): Generator<MemberText> {
  let pos = 0;
  /** Where bytes that are no member began, while looking for the next one. */
  let skippedFrom: number | undefined;
  while (pos < gz.length) {
    const member = inflateMember(gz, pos, true);
    if ('end' in member) {
      const skipped = skippedFrom === undefined ? {} : { skipped: { from: skippedFrom, to: pos - 1 } };
      skippedFrom = undefined;
      yield { text: member.text, ...skipped };
      pos = member.end;
      continue;
    }
    if (member.text !== undefined && skippedFrom === undefined) {
      // A member that starts well and breaks: what it gave, then the next member that is whole.
      yield { text: member.text, damage: { at: pos, message: member.message } };
    } else {
      skippedFrom ??= pos;
    }
    const next = nextMember(gz, pos + 1);
    if (next === undefined) {
      if (skippedFrom !== undefined) {
        yield { text: Buffer.alloc(0), skipped: { from: skippedFrom, to: gz.length - 1 } };
      }
      return;
    }
    pos = next;
  }
}

/** The first offset from `from` where a whole member inflates with a correct CRC-32. */
function nextMember(gz: Buffer, from: number): number | undefined {
  for (let pos = gz.indexOf(MAGIC, from); pos >= 0; pos = gz.indexOf(MAGIC, pos + 1)) {
    if ('end' in inflateMember(gz, pos, false)) return pos;
  }
  return undefined;
}

const MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

/**
 * One gzip member at `pos` (RFC 1952): its text and where it ends, checked against its CRC-32 and
 * length; or, when it breaks, what can be trusted of it (undefined when the header is not gzip).
 */
function inflateMember(
  gz: Buffer,
  pos: number,
  salvage: boolean,
): { text: Buffer; end: number } | { text: Buffer | undefined; message: string } {
  const start = dataStart(gz, pos);
  if (start === undefined) return { text: undefined, message: 'not a gzip member' };
  const data = gz.subarray(start);
  try {
    const { buffer, engine } = inflateRawSync(data, {
      info: true,
      maxOutputLength: MAX_IN_MEMORY_INFLATED,
    }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    const end = start + engine.bytesWritten + 8;
    if (end > gz.length) return { text: buffer, message: 'its CRC-32 and length are missing' };
    try {
      // The trailer is checked by inflating the member once more as gzip: salvaging is rare.
      gunzipSync(gz.subarray(pos, end), { maxOutputLength: MAX_IN_MEMORY_INFLATED });
    } catch (err) {
      // It inflates, to text that is wrong somewhere: none of its lines can be trusted.
      return { text: salvage ? Buffer.alloc(0) : undefined, message: (err as Error).message };
    }
    return { text: buffer, end };
  } catch (err) {
    return { text: salvage ? cutShortText(data) : undefined, message: (err as Error).message };
  }
}

/**
 * The text of a member whose data is cut short (a manifest truncated in it): inflated up to the
 * cut, which is exact. Damage elsewhere gives nothing: deflate may turn out garbage for a while
 * before it notices, and a garbled line that still parses (a wrong SHA-256, a wrong name) is worse
 * than a line reported lost, so the member's lines are all given up (at most one block).
 */
function cutShortText(data: Buffer): Buffer {
  try {
    return inflateRawSync(data, {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: MAX_IN_MEMORY_INFLATED,
    });
  } catch {
    return Buffer.alloc(0);
  }
}

/** Where a member's deflate data starts, past its header and optional fields, if it is one. */
function dataStart(gz: Buffer, pos: number): number | undefined {
  if (gz.length < pos + 10 || gz[pos] !== 0x1f || gz[pos + 1] !== 0x8b || gz[pos + 2] !== 8) return undefined;
  const flags = gz[pos + 3]!;
  if (flags & 0xe0) return undefined;
  let at = pos + 10;
  if (flags & 4) {
    if (gz.length < at + 2) return undefined;
    at += 2 + gz.readUInt16LE(at);
  }
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    const zero = gz.indexOf(0, at);
    if (zero < 0) return undefined;
    at = zero + 1;
  }
  if (flags & 2) at += 2;
  return at <= gz.length ? at : undefined;
}
