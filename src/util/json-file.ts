import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makePrivateFolder, PRIVATE_FILE } from '../fs/private-files.js';

let writes = 0;

/** Replaces a JSON file atomically, so a reader never sees half of it; creates its folder. Private (0600). */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await makePrivateFolder(dirname(path));
  const temp = `${path}.${process.pid}.${++writes}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: PRIVATE_FILE });
  await rename(temp, path);
}

/** A JSON file's content; undefined when it does not exist or is not valid JSON (a cache or record). */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}
