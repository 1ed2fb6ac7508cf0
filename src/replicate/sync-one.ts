import type { Backend, ObjectHead } from '../backend/backend.js';
import { IntegrityError, isTwinvaultError } from '../errors.js';
import { forEachReference } from '../repository/manifest-refs.js';
import { runPool } from '../util/pool.js';
import { copyObject } from './copy-object.js';
import { sameBytes } from './same-object.js';

/** What copying one named object came to. */
export type KeyOutcome = 'copied' | 'present' | 'vanished';

/** Runs one copy; live mode passes a limiter shared by every copy it makes. */
export type CopyLimiter = <T>(copy: () => Promise<T>) => Promise<T>;

export interface SyncOptions {
  /** Copies in flight for one snapshot's objects (default 16). */
  concurrency?: number;
  limit?: CopyLimiter;
  /** Told of every object copied (a snapshot's objects and its manifest), for logs. */
  onCopied?: (key: string, bytes: number, ms: number) => void;
}

/** Copies one object unless the destination holds it already. */
export async function syncObject(
  source: Backend,
  destination: Backend,
  key: string,
  options: SyncOptions = {},
): Promise<KeyOutcome> {
  const info = await headIfAny(source, key);
  if (!info) return 'vanished';
  const existing = await headIfAny(destination, key);
  if (existing && sameBytes(info, existing)) return 'present';
  const copy = () => copyObject(source, destination, info);
  const outcome = await (options.limit ? options.limit(copy) : copy());
  if (outcome.kind === 'failed') throw outcome.error;
  if (outcome.kind === 'vanished') return 'vanished';
  options.onCopied?.(key, info.size, outcome.ms);
  return 'copied';
}

/**
 * Copies a snapshot: what its manifest references and the destination lacks, then the manifest
 * itself, so the destination never holds a manifest without its objects.
 */
export async function syncManifest(
  source: Backend,
  destination: Backend,
  key: string,
  options: SyncOptions = {},
): Promise<KeyOutcome> {
  if (await headIfAny(destination, key)) return 'present';
  const references = new Set<string>();
  try {
    await forEachReference(source, key, (reference) => references.add(reference));
  } catch (err) {
    if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return 'vanished';
    throw err;
  }
  const missing = await absentFrom(destination, references);
  await runPool(missing, options.concurrency ?? 16, async (reference) => {
    if ((await syncObject(source, destination, reference, options)) === 'vanished') {
      throw new IntegrityError(
        `snapshot manifest "${key}" references "${reference}", which ${source.location} no longer holds; the manifest is not copied to ${destination.location}`,
        { hint: 'run "twinvault verify" on the repository' },
      );
    }
  });
  return syncObject(source, destination, key, options);
}

async function headIfAny(backend: Backend, key: string): Promise<ObjectHead | undefined> {
  try {
    return await backend.head(key);
  } catch (err) {
    if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/** The keys the destination lacks, found by listing each snapshot folder they live in once. */
async function absentFrom(destination: Backend, keys: ReadonlySet<string>): Promise<string[]> {
  const folders = new Set<string>();
  for (const key of keys) folders.add(folderOf(key));
  const present = new Set<string>();
  for (const folder of folders) {
    for await (const object of destination.list(folder)) if (keys.has(object.key)) present.add(object.key);
  }
  return [...keys].filter((key) => !present.has(key));
}

/** `<host>/<stamp>/` of a content key: the folder of the snapshot that wrote it. */
function folderOf(key: string): string {
  const parts = key.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : key;
}
