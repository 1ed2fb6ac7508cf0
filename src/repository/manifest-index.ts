import { createHash } from 'node:crypto';
import { BLOCK_RULE, type WrittenManifest } from './manifest-writer.js';

/**
 * The local index of a manifest this machine wrote (part of the local index of DESIGN invariant
 * 5: a cache, never the truth). Per entry it holds the path and the signature that says whether a
 * file is unchanged, and it records the manifest's gzip members, so the next backup matches files
 * without parsing the manifest and copies unchanged blocks without compressing them again. It
 * names the exact manifest bytes it describes (size and SHA-256) and is ignored if they differ.
 */
export interface ManifestIndexData {
  version: 1;
  rule: string;
  size: number;
  sha256: string;
  headerLength: number;
  /** Each entry member: [compressed length, entries]. */
  blocks: Array<[number, number]>;
  paths: string[];
  /** Exact path bytes (base64) of the entries whose names are not valid UTF-8, by entry number. */
  pathBytes: Record<string, string>;
  signatures: string[];
}

export interface IndexColumns {
  paths: string[];
  pathBytes: Record<string, string>;
  signatures: string[];
}

export function manifestIndex(written: WrittenManifest, columns: IndexColumns): ManifestIndexData {
  return {
    version: 1,
    rule: BLOCK_RULE,
    size: written.data.length,
    sha256: createHash('sha256').update(written.data).digest('hex'),
    headerLength: written.headerLength,
    blocks: written.blocks.map((block) => [block.length, block.entries]),
    ...columns,
  };
}

/** Whether `index` describes exactly `data` and is consistent in itself. */
export function indexMatches(index: ManifestIndexData, data: Buffer): boolean {
  if (index?.version !== 1 || index.rule !== BLOCK_RULE || index.size !== data.length) return false;
  if (!Array.isArray(index.blocks) || !Array.isArray(index.paths) || !Array.isArray(index.signatures))
    return false;
  let bytes = index.headerLength;
  let entries = 0;
  for (const [length, count] of index.blocks) {
    bytes += length;
    entries += count;
  }
  if (bytes !== data.length || entries !== index.paths.length || entries !== index.signatures.length)
    return false;
  return createHash('sha256').update(data).digest('hex') === index.sha256;
}

/**
 * The file: the SHA-256 of the rest, one JSON line with everything but the two columns, then the
 * paths and then the signatures, each joined by NUL (which no path holds): splitting a string is
 * several times faster than JSON.parse of the same array, and this is read on every backup. The
 * checksum makes a damaged index fail to load (the manifest is then read in full) rather than
 * mislead a backup. Returned as the parts to write, in order.
 */
export function indexFile(index: ManifestIndexData): Buffer[] {
  const { paths, signatures, ...head } = index;
  const pathText = Buffer.from(paths.join('\0'));
  const body = [
    Buffer.from(`${JSON.stringify({ ...head, count: paths.length, pathBytesLength: pathText.length })}\n`),
    pathText,
    Buffer.from(signatures.join('\0')),
  ];
  // In parts, not concatenated: for 100,000 entries each whole copy is some 10 MB at the end of a
  // backup, when its memory peaks.
  const digest = createHash('sha256');
  for (const part of body) digest.update(part);
  return [Buffer.from(`${digest.digest('hex')}\n`), ...body];
}

/** Throws when the file is damaged. */
export function parseIndexFile(whole: Buffer): ManifestIndexData {
  const digestEnd = whole.indexOf(0x0a);
  const file = whole.subarray(digestEnd + 1);
  if (digestEnd !== 64 || createHash('sha256').update(file).digest('hex') !== whole.toString('latin1', 0, 64))
    throw new Error('the local manifest index is damaged');
  const newline = file.indexOf(0x0a);
  const { count, pathBytesLength, ...head } = JSON.parse(file.toString('utf8', 0, newline)) as Omit<
    ManifestIndexData,
    'paths' | 'signatures'
  > & { count: number; pathBytesLength: number };
  const split = (start: number, end: number) =>
    count > 0 ? file.toString('utf8', start, end).split('\0') : [];
  return {
    ...head,
    paths: split(newline + 1, newline + 1 + pathBytesLength),
    signatures: split(newline + 1 + pathBytesLength, file.length),
  };
}
