import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { IntegrityError } from '../errors.js';
import { type Entry, MANIFEST_FORMAT, MANIFEST_VERSION, type ManifestHeader } from './manifest.js';

const LINES_PER_WRITE = 512;

/**
 * The JSON line an entry was decoded from. An unchanged file's entry is carried into the next
 * snapshot as the very same object, so its line is written again without serialising it anew.
 */
const rawLines = new WeakMap<Entry, string>();

/** The manifest line an entry was decoded from, if it was decoded (not built) in this process. */
export function rawLineOf(entry: Entry): string | undefined {
  return rawLines.get(entry);
}

/** Gzips a header and its entries into one buffer, ready to upload. */
export async function encodeManifest(
  header: ManifestHeader,
  entries: Iterable<Entry> | AsyncIterable<Entry>,
): Promise<Buffer> {
  // Level 3: a third faster than the default for a few percent more bytes.
  const gzip = createGzip({ level: 3 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const write = (text: string) =>
    gzip.write(text) ? Promise.resolve() : new Promise<void>((resolve) => gzip.once('drain', resolve));
  await write(`${JSON.stringify(header)}\n`);
  let batch: string[] = [];
  let count = 0;
  for await (const entry of entries) {
    batch.push(rawLines.get(entry) ?? JSON.stringify(entry));
    count++;
    if (batch.length === LINES_PER_WRITE) {
      await write(`${batch.join('\n')}\n`);
      batch = [];
    }
  }
  if (batch.length > 0) await write(`${batch.join('\n')}\n`);
  if (count !== header.entries)
    throw new Error(`manifest header says ${header.entries} entries but ${count} were written`);
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}

export interface DecodedManifest {
  header: ManifestHeader;
  entries: AsyncIterable<Entry>;
}

/**
 * Decodes a manifest stream. The header is read at once; entries are parsed as they are iterated.
 * `where` names the manifest in errors: a damaged manifest is an IntegrityError, never a
 * silently shorter snapshot.
 */
export async function decodeManifest(stream: Readable, where: string): Promise<DecodedManifest> {
  const gunzip = createGunzip();
  stream.on('error', (err) => gunzip.destroy(err));
  const lines = createInterface({ input: stream.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY })[
    Symbol.asyncIterator
  ]();
  const first = await nextLine(lines, where, 1);
  if (first === undefined) throw damaged(where, 'it is empty');
  const header = parseHeader(first, where);
  async function* entries(): AsyncGenerator<Entry> {
    let count = 0;
    for (;;) {
      const line = await nextLine(lines, where, count + 2);
      if (line === undefined) break;
      if (line === '') continue;
      // No raw line is kept here: a streamed manifest may be large, and only backups reuse lines.
      yield parseEntry(line, where, count + 2);
      count++;
    }
    if (count !== header.entries)
      throw damaged(where, `it holds ${count} entries where its header says ${header.entries}`);
  }
  return { header, entries: entries() };
}

/** Manifests up to this size (compressed) are decoded in one go rather than streamed. */
export const IN_MEMORY_DECODE_LIMIT = 16 * 1024 * 1024;

/**
 * Decodes a whole manifest held in memory: one gunzip and a scan for newlines, several times
 * faster than the streamed path for the 100,000-entry manifests a backup reads as its parent.
 */
export function decodeManifestBuffer(
  gz: Buffer,
  where: string,
): { header: ManifestHeader; entries: Entry[] } {
  let text: Buffer;
  try {
    text = gunzipSync(gz);
  } catch (cause) {
    throw damaged(where, `it cannot be decompressed: ${(cause as Error).message}`, cause);
  }
  let start = 0;
  let lineNumber = 0;
  let header: ManifestHeader | undefined;
  const entries: Entry[] = [];
  while (start < text.length) {
    let end = text.indexOf(0x0a, start);
    if (end < 0) end = text.length;
    lineNumber++;
    if (end > start) {
      const line = text.toString('utf8', start, end);
      if (!header) header = parseHeader(line, where);
      else {
        const entry = parseEntry(line, where, lineNumber);
        rawLines.set(entry, line);
        entries.push(entry);
      }
    }
    start = end + 1;
  }
  if (!header) throw damaged(where, 'it is empty');
  if (entries.length !== header.entries) {
    throw damaged(where, `it holds ${entries.length} entries where its header says ${header.entries}`);
  }
  return { header, entries };
}

/** Reads only the header; the rest of the stream is dropped. */
export async function decodeManifestHeader(stream: Readable, where: string): Promise<ManifestHeader> {
  const { header } = await decodeManifest(stream, where);
  stream.destroy();
  return header;
}

async function nextLine(
  lines: AsyncIterator<string>,
  where: string,
  lineNumber: number,
): Promise<string | undefined> {
  try {
    const next = await lines.next();
    return next.done ? undefined : next.value;
  } catch (cause) {
    throw damaged(where, `reading line ${lineNumber} failed: ${(cause as Error).message}`, cause);
  }
}

export function parseHeader(line: string, where: string): ManifestHeader {
  const header = parseJson(line, where, 1) as Partial<ManifestHeader>;
  if (header.format !== MANIFEST_FORMAT || typeof header.version !== 'number') {
    throw damaged(where, 'its first line is not a twinvault manifest header');
  }
  if (header.version > MANIFEST_VERSION) {
    throw new IntegrityError(
      `${where} has manifest version ${header.version}; this twinvault reads up to ${MANIFEST_VERSION}`,
      {
        hint: 'upgrade twinvault',
      },
    );
  }
  for (const field of ['id', 'host', 'stamp', 'time'] as const) {
    if (typeof header[field] !== 'string') throw damaged(where, `its header lacks "${field}"`);
  }
  if (
    !Array.isArray(header.sources) ||
    typeof header.entries !== 'number' ||
    typeof header.summary !== 'object'
  ) {
    throw damaged(where, 'its header lacks sources, summary or entries');
  }
  return { ...header, tags: Array.isArray(header.tags) ? header.tags : [] } as ManifestHeader;
}

export function parseEntry(line: string, where: string, lineNumber: number): Entry {
  const entry = parseJson(line, where, lineNumber) as Partial<Entry> & Record<string, unknown>;
  const bad = (what: string) => damaged(where, `line ${lineNumber}: ${what}`);
  if (typeof entry.path !== 'string' || entry.path === '') throw bad('entry without a path');
  if (typeof entry.mode !== 'number' || typeof entry.mtime !== 'string')
    throw bad(`entry ${entry.path} lacks mode or mtime`);
  switch (entry.type) {
    case 'file':
      if (
        typeof entry.size !== 'number' ||
        typeof entry.sha256 !== 'string' ||
        typeof entry.key !== 'string'
      ) {
        throw bad(`file ${entry.path} lacks size, sha256 or key`);
      }
      break;
    case 'symlink':
      if (typeof entry.target !== 'string') throw bad(`symlink ${entry.path} lacks a target`);
      break;
    case 'dir':
      break;
    default:
      throw bad(`entry ${entry.path} has unknown type ${JSON.stringify(entry.type)}`);
  }
  return entry as Entry;
}

function parseJson(line: string, where: string, lineNumber: number): unknown {
  try {
    return JSON.parse(line);
  } catch (cause) {
    throw damaged(where, `line ${lineNumber} is not valid JSON`, cause);
  }
}

function damaged(where: string, what: string, cause?: unknown): IntegrityError {
  return new IntegrityError(`manifest ${where} is damaged: ${what}`, {
    ...(cause === undefined ? {} : { cause }),
    hint: 'run "twinvault verify"; a replica may hold an intact copy',
  });
}
