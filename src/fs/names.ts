/**
 * File names are bytes. Paths travel as Buffers from readdir to open, so a name that is not
 * valid UTF-8 still reaches the right file; the manifest stores such a name as base64 beside a
 * readable rendering.
 */
export const SLASH = Buffer.from('/');

export function joinBytes(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SLASH, name]);
}

/** The name as a string, and whether that string is exact (valid UTF-8). */
export function decodeName(bytes: Buffer): { text: string; exact: boolean } {
  const text = bytes.toString('utf8');
  // Invalid bytes decode to U+FFFD; only then is the (rare, costlier) exact check needed.
  if (!text.includes('\uFFFD')) return { text, exact: true };
  return { text, exact: Buffer.from(text, 'utf8').equals(bytes) };
}

/** Path bytes of a manifest entry: from pathBytes when present, else its UTF-8 path. */
export function entryPathBytes(entry: { path: string; pathBytes?: string }): Buffer {
  return entry.pathBytes === undefined
    ? Buffer.from(entry.path, 'utf8')
    : Buffer.from(entry.pathBytes, 'base64');
}
