import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every folder and file below `root` (root included) with its permission bits, as "./a/b 0700". */
export async function modesBelow(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (path: string, name: string) => {
    const info = await lstat(path);
    found.push(`${name} ${(info.mode & 0o7777).toString(8).padStart(4, '0')}`);
    if (info.isDirectory())
      for (const child of (await readdir(path)).sort()) await visit(join(path, child), `${name}/${child}`);
  };
  await visit(root, '.');
  return found;
}

/** The lines of modesBelow() that are neither a 0700 folder nor a 0600 file (nor a symlink). */
export function notPrivate(modes: string[]): string[] {
  return modes.filter((line) => !/ 0[67]00$/.test(line) && !/ 0777$/.test(line));
}
