import { isArchiveClass } from '../backend/archive.js';
import type { Backend, ObjectInfo } from '../backend/backend.js';
import { compareKeys } from '../backend/keys.js';
import { isTwinvaultError } from '../errors.js';
import { runPool } from '../util/pool.js';

export interface NeededObject {
  key: string;
  size: number;
}

/** An object needed that is archived, and how its restore stands (from a HEAD). */
export interface ArchivedObject {
  key: string;
  size: number;
  storageClass: string;
  restore: 'none' | 'in-progress' | 'restored';
  restoredUntil?: Date;
}

/** Objects a listing returns per request: listing this many costs what one HEAD does. */
const PAGE = 1000;
const CONCURRENCY = 16;

/**
 * What the store holds of `needed`: present objects with their class and archive state. Keys are
 * grouped by snapshot folder (`host/stamp/`), and each folder is listed from just before its first
 * needed key to its last, stopping early once that has cost as many requests as a HEAD per key
 * would (then the keys not reached get a HEAD each): one request for a single file, about one per
 * thousand objects for a whole snapshot, never much more than a HEAD each. `known` (a listing the
 * caller made anyway) spares both. Missing objects are left out: the caller reports those itself.
 */
export async function inspectObjects(
  backend: Backend,
  needed: readonly NeededObject[],
  known?: ReadonlyMap<string, ObjectInfo>,
): Promise<Map<string, ObjectInfo>> {
  const found = new Map<string, ObjectInfo>();
  const byFolder = new Map<string, string[]>();
  for (const { key } of needed) {
    const info = known?.get(key);
    if (info) {
      found.set(key, info);
      continue;
    }
    const folder = /^[^/]+\/[^/]+\//.exec(key)?.[0] ?? '';
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), key]);
  }
  const heads: string[] = [];
  for (const [folder, keys] of byFolder) {
    if (folder === '') {
      heads.push(...keys);
      continue;
    }
    heads.push(...(await listFolder(backend, folder, keys, found)));
  }
  await runPool(heads, CONCURRENCY, async (key) => {
    try {
      found.set(key, await backend.head(key));
    } catch (err) {
      if (!(isTwinvaultError(err) && err.code === 'NOT_FOUND')) throw err;
    }
  });
  return found;
}

/** Lists the range of a folder that holds `keys`; returns the keys its request budget did not reach. */
async function listFolder(
  backend: Backend,
  folder: string,
  keys: string[],
  found: Map<string, ObjectInfo>,
): Promise<string[]> {
  keys.sort(compareKeys);
  const wanted = new Set(keys);
  const last = keys.at(-1)!;
  // A prefix of the first key sorts just before it (by whole characters, so the bytes stay UTF-8).
  const startAfter = Array.from(keys[0]!).slice(0, -1).join('');
  let listed = 0;
  for await (const object of backend.list(folder, startAfter.length > folder.length ? { startAfter } : {})) {
    if (compareKeys(object.key, last) > 0) return [];
    if (wanted.delete(object.key)) found.set(object.key, object);
    if (wanted.size === 0) return [];
    if (++listed >= keys.length * PAGE) return [...wanted];
  }
  return [];
}

/**
 * The needed objects that are archived, with their restore state: what inspectObjects found in
 * an archive class, with a HEAD for each one whose state a listing left unknown. A backend that
 * never archives (a folder) costs nothing.
 */
export async function findArchived(
  backend: Backend,
  needed: readonly NeededObject[],
  known?: ReadonlyMap<string, ObjectInfo>,
): Promise<ArchivedObject[]> {
  if (!backend.capabilities.archive || needed.length === 0) return [];
  const found = await inspectObjects(backend, needed, known);
  const archived = [...found.values()].filter(
    (info) => info.archive !== undefined || isArchiveClass(info.storageClass),
  );
  const result: ArchivedObject[] = [];
  await runPool(archived, CONCURRENCY, async (info) => {
    let state = info.archive;
    let storageClass = info.storageClass;
    if (state === undefined || state.restore === 'unknown') {
      try {
        const head = await backend.head(info.key);
        state = head.archive;
        storageClass = head.storageClass ?? storageClass;
      } catch (err) {
        if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return;
        throw err;
      }
    }
    if (state === undefined || state.restore === 'unknown') return;
    result.push({
      key: info.key,
      size: info.size,
      storageClass: storageClass ?? state.tier ?? 'GLACIER',
      restore: state.restore,
      ...(state.restoredUntil ? { restoredUntil: state.restoredUntil } : {}),
    });
  });
  return result.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
