import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtimeMs?: number;
  sha256?: string;
  target?: string;
  ino?: number;
}

/** Everything about a folder tree that a restore must reproduce, for exact comparisons. */
export async function describeTree(root: string, options: { times?: boolean } = {}): Promise<Record<string, TreeEntry>> {
  const result: Record<string, TreeEntry> = {};
  async function walk(dir: string, prefix: string) {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const info = await lstat(path);
      const entry: TreeEntry = {
        type: info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'symlink' : 'file',
        mode: info.mode & 0o7777,
      };
      if (options.times && !info.isSymbolicLink()) entry.mtimeMs = Math.floor(info.mtimeMs);
      if (info.isFile()) entry.sha256 = createHash('sha256').update(await readFile(path)).digest('hex');
      if (info.isSymbolicLink()) entry.target = await readlink(path);
      result[rel] = entry;
      if (info.isDirectory()) await walk(path, rel);
    }
  }
  await walk(root, '');
  return result;
}
