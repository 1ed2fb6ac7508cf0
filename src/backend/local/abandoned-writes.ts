import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AbandonedWrites } from '../backend.js';
import { errnoCode, fsError } from './fs-errors.js';

/**
 * Removes the `*.part` files in a local repository's temporary folder last written before
 * `before`: a write in progress keeps touching its file, so an old one is a killed process's
 * (a backup, replication or repair stopped with SIGKILL or a power cut). Nothing else is touched.
 */
export async function removeAbandonedParts(
  tempDir: string,
  before: Date,
  dryRun: boolean,
): Promise<AbandonedWrites> {
  const found: AbandonedWrites = { files: 0, bytes: 0 };
  let names: string[];
  try {
    names = await readdir(tempDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return found;
    throw fsError(err, 'read', tempDir);
  }
  for (const name of names) {
    if (!name.endsWith('.part')) continue;
    const path = join(tempDir, name);
    try {
      const info = await lstat(path);
      if (!info.isFile() || info.mtime.getTime() >= before.getTime()) continue;
      if (!dryRun) await unlink(path);
      found.files++;
      found.bytes += info.size;
    } catch (err) {
      // Renamed into place or removed meanwhile: not abandoned after all.
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'remove', path);
    }
  }
  return found;
}
