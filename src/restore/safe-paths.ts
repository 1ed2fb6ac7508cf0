import { IntegrityError } from '../errors.js';
import { entryPathBytes } from '../fs/names.js';
import type { Entry } from '../repository/manifest.js';

/**
 * The path segments of an entry, refusing anything that could lead outside the restore target:
 * absolute paths, "..", ".", empty segments, NUL, and (on Windows) backslashes or drive letters.
 */
export function safeSegments(entry: Entry, where: string): Buffer[] {
  const bytes = entryPathBytes(entry);
  const refuse = (why: string) =>
    new IntegrityError(`refusing to restore ${JSON.stringify(entry.path)} from ${where}: ${why}`, {
      hint: 'the manifest is damaged or was tampered with; nothing was written for it',
    });
  if (bytes.length === 0) throw refuse('empty path');
  if (bytes[0] === 0x2f) throw refuse('absolute path');
  if (bytes.includes(0)) throw refuse('NUL byte in path');
  if (process.platform === 'win32' && (bytes.includes(0x5c) || bytes.includes(0x3a)))
    throw refuse('"\\" or ":" in path');
  const segments: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x2f) {
      const segment = bytes.subarray(start, i);
      const text = segment.toString('latin1');
      if (text === '' || text === '.' || text === '..') throw refuse(`"${text}" segment in path`);
      segments.push(segment);
      start = i + 1;
    }
  }
  return segments;
}

/**
 * Refuses a manifest in which an entry lies below a symlink or a file of the same manifest: a
 * restore would otherwise write through a link it created itself.
 */
export function checkNoEntryBelowNonFolder(entries: Entry[], where: string): void {
  const nonFolders = new Set<string>();
  for (const entry of entries)
    if (entry.type !== 'dir') nonFolders.add(entryPathBytes(entry).toString('latin1'));
  for (const entry of entries) {
    const path = entryPathBytes(entry).toString('latin1');
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      if (nonFolders.has(path.slice(0, i))) {
        throw new IntegrityError(
          `refusing to restore ${JSON.stringify(entry.path)} from ${where}: it lies below "${path.slice(0, i)}", which is not a folder`,
          { hint: 'the manifest is damaged or was tampered with; nothing was written' },
        );
      }
    }
  }
}
