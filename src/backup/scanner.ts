import { closeSync, type Dirent, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type FileStat, lstatNow, toFileStat } from '../fs/file-stat.js';
import { decodeName, joinBytes } from '../fs/names.js';
import { CACHEDIR_SIGNATURE, CACHEDIR_TAG, IGNORE_FILE, type IgnoreRules } from './ignore-rules.js';

/** One thing found in a source, with its lstat. */
export interface ScanItem {
  kind: FileStat['kind'];
  /** The absolute path: text, or bytes when a name on the way is not valid UTF-8. */
  fsPath: string | Buffer;
  /** `<source name>/<relative path>` (a lossy rendering when pathBytes is set). */
  path: string;
  /** base64 of the exact path bytes, when they are not valid UTF-8. */
  pathBytes?: string;
  stat: FileStat;
}

export interface ScanCallbacks {
  item(item: ScanItem): void;
  /** An entry that could not be read and is left out of the snapshot. */
  skip(path: string, reason: string): void;
  /** Something left out on purpose that a person may want to know of. */
  note(path: string, message: string): void;
}

/**
 * Walks one source folder. Names are read as bytes; excluded folders are never entered; folders
 * tagged CACHEDIR.TAG are skipped; symlinks are recorded, never followed. Unreadable entries are
 * reported and the walk goes on. Folders are read and entries lstat-ed synchronously (see
 * lstatNow): a scan has nothing else to do meanwhile, and it is twice as fast.
 */
export async function scanSource(
  root: string,
  sourceName: string,
  rules: IgnoreRules,
  callbacks: ScanCallbacks,
): Promise<void> {
  let rootStat: FileStat;
  try {
    // The root itself may be a symlink the user pointed at: follow that one.
    rootStat = toFileStat(await stat(root));
  } catch (err) {
    callbacks.skip(sourceName, `cannot read source folder ${root}: ${reason(err)}`);
    return;
  }
  if (rootStat.kind !== 'dir') {
    callbacks.skip(sourceName, `source ${root} is not a folder`);
    return;
  }
  callbacks.item({ kind: 'dir', fsPath: root, path: sourceName, stat: rootStat });
  await walk({ fsPath: root, relative: '', relativeBytes: undefined, rules }, sourceName, callbacks);
}

/**
 * A folder being walked. Paths stay strings while every name on the way is valid UTF-8 (cheaper
 * than byte buffers for millions of files) and become bytes below the first name that is not.
 */
interface Folder {
  fsPath: string | Buffer;
  /** Path relative to the source root, as text ("" for the root). */
  relative: string;
  /** The same as exact bytes, once a name on the way was not valid UTF-8. */
  relativeBytes: Buffer | undefined;
  rules: IgnoreRules;
}

async function walk(folder: Folder, sourceName: string, callbacks: ScanCallbacks) {
  const folderLabel = folder.relative === '' ? sourceName : `${sourceName}/${folder.relative}`;
  let entries: Dirent<Buffer>[];
  try {
    entries = readdirSync(folder.fsPath, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    callbacks.skip(folderLabel, `cannot list folder: ${reason(err)}`);
    return;
  }
  let rules = folder.rules;
  if (entries.some((entry) => entry.name.equals(IGNORE_FILE_BYTES))) {
    try {
      const content = readFileSync(childPath(folder.fsPath, IGNORE_FILE_BYTES, IGNORE_FILE, true), 'utf8');
      rules = rules.withFolderRules(folder.relative, content);
    } catch (err) {
      callbacks.skip(`${folderLabel}/${IGNORE_FILE}`, `cannot read ignore file: ${reason(err)}`);
    }
  }
  const subfolders: Folder[] = [];
  for (const entry of entries) {
    const { text, exact } = decodeName(entry.name);
    const relative = folder.relative === '' ? text : `${folder.relative}/${text}`;
    // Some filesystems do not report entry types in listings: those are judged after lstat.
    const typeKnown = entry.isFile() || entry.isDirectory() || entry.isSymbolicLink();
    if (typeKnown && rules.excludes(relative, entry.isDirectory())) continue;
    const relativeBytes =
      folder.relativeBytes || !exact
        ? joinBytes(folder.relativeBytes ?? Buffer.from(folder.relative), entry.name)
        : undefined;
    const fsPath = childPath(folder.fsPath, entry.name, text, exact);
    const path = `${sourceName}/${relative}`;
    let info: FileStat;
    try {
      info = lstatNow(fsPath);
    } catch (err) {
      callbacks.skip(path, reason(err));
      continue;
    }
    if (!typeKnown && rules.excludes(relative, info.kind === 'dir')) continue;
    if (info.kind === 'dir' && isCacheFolder(fsPath)) {
      callbacks.note(path, `skipped: a cache folder (${CACHEDIR_TAG})`);
      continue;
    }
    const item: ScanItem = { kind: info.kind, fsPath, path, stat: info };
    if (relativeBytes)
      item.pathBytes = Buffer.concat([Buffer.from(`${sourceName}/`), relativeBytes]).toString('base64');
    callbacks.item(item);
    if (info.kind === 'dir') subfolders.push({ fsPath, relative, relativeBytes, rules });
  }
  for (const subfolder of subfolders) await walk(subfolder, sourceName, callbacks);
}

const IGNORE_FILE_BYTES = Buffer.from(IGNORE_FILE);
const CACHEDIR_TAG_BYTES = Buffer.from(CACHEDIR_TAG);

function childPath(parent: string | Buffer, name: Buffer, text: string, exact: boolean): string | Buffer {
  if (typeof parent === 'string' && exact) return `${parent}/${text}`;
  return joinBytes(typeof parent === 'string' ? Buffer.from(parent) : parent, name);
}

function isCacheFolder(dir: string | Buffer): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(childPath(dir, CACHEDIR_TAG_BYTES, CACHEDIR_TAG, true), 'r');
    const buffer = Buffer.alloc(CACHEDIR_SIGNATURE.length);
    readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('latin1') === CACHEDIR_SIGNATURE;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'it vanished while being read';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return (err as Error)?.message ?? String(err);
  }
}
