import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys } from '../keys.js';
import { errnoCode, fsError } from './fs-errors.js';

export interface FoundFile {
  key: string;
  path: string;
}

/**
 * Walks `dir` depth-first and yields regular files in the order S3 would list their keys. A
 * folder sorts as its name plus "/", so "a.txt" (0x2E) comes before everything in "a/" (0x2F).
 */
export async function* walkSorted(
  dir: string,
  keyPrefix: string,
  skip: (key: string) => boolean,
): AsyncGenerator<FoundFile> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return;
    throw fsError(err, 'list', dir);
  }
  const named = entries.map((entry) => ({
    entry,
    sortName: entry.isDirectory() ? `${entry.name}/` : entry.name,
  }));
  named.sort((a, b) => compareKeys(a.sortName, b.sortName));
  for (const { entry } of named) {
    const key = keyPrefix + entry.name;
    const path = join(dir, entry.name);
    if (skip(key)) continue;
    if (entry.isDirectory()) {
      yield* walkSorted(path, `${key}/`, skip);
    } else if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(path)))) {
      yield { key, path };
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
