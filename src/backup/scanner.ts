import type { BigIntStats, Dirent } from 'node:fs';
import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import { decodeName, joinBytes } from '../fs/names.js';
import { CACHEDIR_SIGNATURE, CACHEDIR_TAG, IGNORE_FILE, type IgnoreRules } from './ignore-rules.js';

export type ItemKind = 'file' | 'dir' | 'symlink' | 'special';

/** One thing found in a source, with its lstat. */
export interface ScanItem {
  kind: ItemKind;
  /** The absolute path, as bytes. */
  fsPath: Buffer;
  /** `<source name>/<relative path>` (a lossy rendering when pathBytes is set). */
  path: string;
  /** base64 of the exact path bytes, when they are not valid UTF-8. */
  pathBytes?: string;
  stat: BigIntStats;
}

export interface ScanCallbacks {
  item(item: ScanItem): void;
  /** An entry that could not be read and is left out of the snapshot. */
  skip(path: string, reason: string): void;
  /** Something left out on purpose that a person may want to know of. */
  note(path: string, message: string): void;
}

const STAT_BATCH = 128;

/**
 * Walks one source folder. Names are read as bytes; each folder's entries are lstat-ed in
 * parallel; excluded folders are never entered; folders tagged CACHEDIR.TAG are skipped; symlinks
 * are recorded, never followed. Unreadable entries are reported and the walk goes on.
 */
export async function scanSource(
  root: string,
  sourceName: string,
  rules: IgnoreRules,
  callbacks: ScanCallbacks,
): Promise<void> {
  let rootStat: BigIntStats;
  try {
    // The root itself may be a symlink the user pointed at: follow that one.
    rootStat = await stat(root, { bigint: true });
  } catch (err) {
    callbacks.skip(sourceName, `cannot read source folder ${root}: ${reason(err)}`);
    return;
  }
  if (!rootStat.isDirectory()) {
    callbacks.skip(sourceName, `source ${root} is not a folder`);
    return;
  }
  const rootBytes = Buffer.from(root);
  callbacks.item({ kind: 'dir', fsPath: rootBytes, path: sourceName, stat: rootStat });
  await walk(rootBytes, Buffer.alloc(0), rules, sourceName, callbacks);
}

async function walk(
  dir: Buffer,
  relative: Buffer,
  rules: IgnoreRules,
  sourceName: string,
  callbacks: ScanCallbacks,
) {
  const dirLabel = label(sourceName, relative);
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    callbacks.skip(dirLabel, `cannot list folder: ${reason(err)}`);
    return;
  }
  const names = new Set(entries.map((entry) => entry.name.toString('utf8')));
  if (names.has(IGNORE_FILE)) {
    try {
      const content = await readFile(joinBytes(dir, Buffer.from(IGNORE_FILE)), 'utf8');
      rules = rules.withFolderRules(decodeName(relative).text, content);
    } catch (err) {
      callbacks.skip(`${dirLabel}/${IGNORE_FILE}`, `cannot read ignore file: ${reason(err)}`);
    }
  }
  const subfolders: Array<{ fsPath: Buffer; relative: Buffer }> = [];
  for (let i = 0; i < entries.length; i += STAT_BATCH) {
    const batch = entries.slice(i, i + STAT_BATCH);
    const found = await Promise.all(
      batch.map((entry) => inspect(dir, relative, entry, rules, sourceName, callbacks)),
    );
    for (const item of found) {
      if (!item) continue;
      callbacks.item(item);
      if (item.kind === 'dir')
        subfolders.push({ fsPath: item.fsPath, relative: joinBytes(relative, basename(item)) });
    }
  }
  for (const folder of subfolders) await walk(folder.fsPath, folder.relative, rules, sourceName, callbacks);
}

const itemNames = new WeakMap<ScanItem, Buffer>();
function basename(item: ScanItem): Buffer {
  return itemNames.get(item)!;
}

async function inspect(
  dir: Buffer,
  relative: Buffer,
  entry: Dirent<Buffer>,
  rules: IgnoreRules,
  sourceName: string,
  callbacks: ScanCallbacks,
): Promise<ScanItem | undefined> {
  const relBytes = joinBytes(relative, entry.name);
  const { text: relText, exact } = decodeName(relBytes);
  const path = `${sourceName}/${relText}`;
  if (rules.excludes(relText, entry.isDirectory())) return undefined;
  const fsPath = joinBytes(dir, entry.name);
  let info: BigIntStats;
  try {
    info = await lstat(fsPath, { bigint: true });
  } catch (err) {
    callbacks.skip(path, reason(err));
    return undefined;
  }
  const kind = kindOf(info);
  if (kind === 'dir' && (await isCacheFolder(fsPath))) {
    callbacks.note(path, `skipped: a cache folder (${CACHEDIR_TAG})`);
    return undefined;
  }
  const item: ScanItem = { kind, fsPath, path, stat: info };
  if (!exact) item.pathBytes = Buffer.concat([Buffer.from(`${sourceName}/`), relBytes]).toString('base64');
  itemNames.set(item, entry.name);
  return item;
}

function kindOf(info: BigIntStats): ItemKind {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'dir';
  if (info.isSymbolicLink()) return 'symlink';
  return 'special';
}

async function isCacheFolder(dir: Buffer): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(joinBytes(dir, Buffer.from(CACHEDIR_TAG)), 'r');
    const buffer = Buffer.alloc(CACHEDIR_SIGNATURE.length);
    await handle.read(buffer, 0, buffer.length, 0);
    return buffer.toString('latin1') === CACHEDIR_SIGNATURE;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

function label(sourceName: string, relative: Buffer): string {
  return relative.length === 0 ? sourceName : `${sourceName}/${decodeName(relative).text}`;
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
