import { compareKeys } from '../backend/keys.js';
import type { ManifestHeader } from '../repository/manifest.js';
import type { IndexColumns } from '../repository/manifest-index.js';
import { ManifestWriter, type WrittenManifest } from '../repository/manifest-writer.js';
import type { FreshEntries } from './fresh-entries.js';
import type { ParentManifest } from './parent-manifest.js';

interface Cursor {
  parent: ParentManifest;
  carried: number[];
  at: number;
}

/**
 * Writes carried entries (from each parent, in their manifest order) and fresh ones (sorted
 * here) in path order. A parent's block is copied compressed when it starts where a new block
 * starts, all of its entries are carried, and nothing else sorts among them.
 */
export async function mergeInto(
  header: ManifestHeader,
  parents: ParentManifest[],
  fresh: FreshEntries,
): Promise<{ written: WrittenManifest; columns: IndexColumns }> {
  const writer = new ManifestWriter();
  fresh.sort();
  const columns: IndexColumns = { paths: [], pathBytes: {}, signatures: [] };
  const push = (path: string, pathBytes: string | undefined, signature: string) => {
    if (pathBytes !== undefined) columns.pathBytes[columns.paths.length] = pathBytes;
    columns.paths.push(path);
    columns.signatures.push(signature);
  };
  const cursors: Cursor[] = parents.map((parent) => {
    const carried: number[] = [];
    for (let i = 0; i < parent.size; i++) if (parent.carried[i]) carried.push(i);
    return { parent, carried, at: 0 };
  });
  let next = 0;
  /** Whether anything other than `except` sorts before `path`. */
  const othersBefore = (path: string, except: Cursor): boolean => {
    if (next < fresh.size && compareKeys(fresh.path(next), path) < 0) return true;
    return cursors.some(
      (cursor) =>
        cursor !== except &&
        cursor.at < cursor.carried.length &&
        compareKeys(cursor.parent.path(cursor.carried[cursor.at]!), path) < 0,
    );
  };
  for (;;) {
    if (writer.atBlockStart) await writer.ready();
    let best: Cursor | undefined;
    for (const cursor of cursors) {
      if (cursor.at >= cursor.carried.length) continue;
      if (!best || compareKeys(cursor.parent.path(cursor.carried[cursor.at]!), headPath(best)) < 0)
        best = cursor;
    }
    if (next < fresh.size && (!best || compareKeys(fresh.path(next), headPath(best)) < 0)) {
      const entry = fresh.entry(next++);
      writer.add(entry.line, entry.path);
      push(entry.path, entry.pathBytes, entry.signature);
      continue;
    }
    if (!best) break;
    const { parent, carried } = best;
    const first = carried[best.at]!;
    const block = writer.atBlockStart ? parent.blockAt(first) : undefined;
    const last = block ? first + block.entries - 1 : -1;
    if (block && carried[best.at + block.entries - 1] === last && !othersBefore(parent.path(last), best)) {
      writer.addCompressedBlock(block.data, block.entries);
      for (let i = first; i <= last; i++) push(parent.path(i), parent.pathBytesOf(i), parent.signature(i));
      best.at += block.entries;
      continue;
    }
    writer.add(parent.line(first), parent.path(first));
    push(parent.path(first), parent.pathBytesOf(first), parent.signature(first));
    best.at++;
  }
  return { written: await writer.finish(header), columns };
}

function headPath(cursor: Cursor): string {
  return cursor.parent.path(cursor.carried[cursor.at]!);
}
