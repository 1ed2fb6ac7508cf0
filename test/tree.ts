import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtimeMs?: number;
  sha256?: string;
  target?: string;
}

/**
 * Everything about a folder tree that a restore must reproduce, for exact comparisons. Names are
 * read as bytes; one that is not valid UTF-8 shows as its hex.
 */
export async function describeTree(
  root: string,
  options: { times?: boolean } = {},
): Promise<Record<string, TreeEntry>> {
  const result: Record<string, TreeEntry> = {};
  async function walk(dir: Buffer, prefix: string) {
    const names = (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare);
    for (const name of names) {
      const path = Buffer.concat([dir, Buffer.from('/'), name]);
      const text = name.toString('utf8');
      const label = Buffer.from(text).equals(name) ? text : `hex:${name.toString('hex')}`;
      const rel = prefix ? `${prefix}/${label}` : label;
      const info = await lstat(path);
      const entry: TreeEntry = {
        type: info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'symlink' : 'file',
        mode: info.mode & 0o7777,
      };
      if (options.times && !info.isSymbolicLink()) entry.mtimeMs = Math.floor(info.mtimeMs);
      if (info.isFile())
        entry.sha256 = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
      if (info.isSymbolicLink()) entry.target = await readlink(path);
      result[rel] = entry;
      if (info.isDirectory()) await walk(path, rel);
    }
  }
  await walk(Buffer.from(root), '');
  return result;
}
