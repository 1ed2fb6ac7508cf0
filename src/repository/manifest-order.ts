import { compareKeys } from '../backend/keys.js';
import { entryPathBytes } from '../fs/names.js';
import type { Entry } from './manifest.js';

/**
 * A manifest lists its entries in path order (docs/FORMAT.md), each path once. Checked as entries
 * are read, in constant memory: a path twice (a file twice, or a folder and a file of one name)
 * would otherwise reach restore as two writes to one place, and diff or ls as a silent choice of
 * one. Names that are not UTF-8 share a lossy `path` and differ in `pathBytes`, so entries with
 * equal `path` are told apart by their exact bytes, which must render as that `path`.
 */
export class EntryOrder {
  private previous: { path: string; entry: Entry; line: number } | undefined;
  /** Exact bytes of the entries so far that share the previous entry's `path`, with their line. */
  private run: Map<string, number> | undefined;

  /** What is wrong with `entry` coming next, or undefined when it may. */
  check(entry: Entry, line: number): string | undefined {
    if (
      entry.pathBytes !== undefined &&
      Buffer.from(entry.pathBytes, 'base64').toString('utf8') !== entry.path
    ) {
      return `the exact bytes (pathBytes) of ${JSON.stringify(entry.path)} are another name`;
    }
    const previous = this.previous;
    if (previous) {
      const order = compareKeys(previous.path, entry.path);
      if (order > 0) {
        return `${JSON.stringify(entry.path)} comes after ${JSON.stringify(previous.path)} (line ${previous.line}), out of path order`;
      }
      if (order === 0) {
        this.run ??= new Map([[exactName(previous.entry), previous.line]]);
        const name = exactName(entry);
        const first = this.run.get(name);
        if (first !== undefined) {
          return `${JSON.stringify(entry.path)} is listed twice (lines ${first} and ${line})`;
        }
        this.run.set(name, line);
      } else {
        this.run = undefined;
      }
    }
    this.previous = { path: entry.path, entry, line };
    return undefined;
  }
}

function exactName(entry: Entry): string {
  return entryPathBytes(entry).toString('latin1');
}
