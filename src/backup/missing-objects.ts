import type { Backend } from '../backend/backend.js';
import { isTwinvaultError } from '../errors.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import { inspectObjects, type NeededObject } from '../retrieval/find-archived.js';
import { readJsonFile, writeJsonFile } from '../util/json-file.js';
import type { ParentManifest } from './parent-manifest.js';

/** How often, per host, a backup checks that what it carries over is still stored: daily. */
export const CHECK_STORED_EVERY_MS = 86_400_000;
const FILE = 'stored-check.json';

/**
 * Finds the objects the parents' files reference that the store no longer has (deleted by hand,
 * by a lifecycle rule, by a damaged replica sync), and marks those entries so they are not
 * carried over: the file, still on disk, is read and uploaded again. Without this, a lost object
 * would be inherited as "unchanged" by every later snapshot.
 *
 * One listing of `<host>/`, plus, for content deduplicated from other hosts, listings of just the
 * ranges that hold it (missingKeys). On D2 (100,000 files, MinIO on loopback,
 * bench/stored-check.ts) that is 100 LIST pages: a no-change backup took 2.0 s, with the check
 * 9.3 s. So it runs once a day per host (checkDue), in full scans only, not in every run.
 * Returns what it learnt, for deduplication too (StoredCheck).
 */
export async function markMissingObjects(
  backend: Backend,
  parents: ParentManifest[],
  host: string,
): Promise<StoredCheck> {
  const referenced = new Set<string>();
  for (const parent of parents) {
    for (let i = 0; i < parent.size; i++) {
      const entry = parent.entry(i);
      if (entry.type === 'file') referenced.add(entry.key);
    }
  }
  const missing = await missingKeys(backend, new Set(referenced), host);
  if (missing.size > 0) {
    for (const parent of parents) {
      for (let i = 0; i < parent.size; i++) {
        const entry = parent.entry(i);
        if (entry.type === 'file' && missing.has(entry.key)) parent.markGone(i);
      }
    }
  }
  for (const key of missing) referenced.delete(key);
  return new StoredCheck(backend, missing, referenced);
}

/**
 * What a run knows of which objects are still stored, for deduplication: a new or changed file
 * whose content the blob index places in an object must not point at an object that is gone.
 * Without a check this run (StoredCheck.skipped), the index is trusted, as between daily checks.
 * After one, objects the parents reference are known either way; any other object a file would
 * be deduplicated against (content of an older or a forged snapshot, another host's) is asked
 * about once (HEAD): usually a few files, those whose content came back.
 */
export class StoredCheck {
  private readonly asked = new Map<string, Promise<boolean>>();

  constructor(
    private readonly backend: Backend | undefined,
    /** Objects the parents reference that the store does not have. */
    readonly gone: Set<string>,
    private readonly present: Set<string>,
  ) {}

  static skipped(): StoredCheck {
    return new StoredCheck(undefined, new Set(), new Set());
  }

  get ran(): boolean {
    return this.backend !== undefined;
  }

  async holds(key: string): Promise<boolean> {
    if (this.gone.has(key)) return false;
    if (!this.backend || this.present.has(key)) return true;
    let answer = this.asked.get(key);
    if (!answer) {
      answer = this.backend.head(key).then(
        () => true,
        (err) => {
          if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return false;
          throw err;
        },
      );
      this.asked.set(key, answer);
    }
    return answer;
  }
}

/**
 * Which of `unseen` the store does not have: what is found is taken out of the set, which is
 * returned. This host's folder is listed whole: a parent's files reference objects in as many
 * stamp folders as the host has made snapshots (an agent makes one per change), so one listing,
 * a request per thousand objects, beats any per-folder or per-key way. Content deduplicated from
 * other hosts is usually a few keys in a large folder: for those, inspectObjects (the restore's
 * way) lists just the ranges that hold them and HEADs what a range would cost more to reach,
 * never much more than a request per key.
 */
export async function missingKeys(backend: Backend, unseen: Set<string>, host: string): Promise<Set<string>> {
  const own = `${host}/`;
  const others: NeededObject[] = [];
  for (const key of unseen) if (!key.startsWith(own)) others.push({ key, size: 0 });
  for await (const object of backend.list(own)) unseen.delete(object.key);
  if (others.length > 0) for (const key of (await inspectObjects(backend, others)).keys()) unseen.delete(key);
  return unseen;
}

/** Whether this host's last check is older than `everyMs` (kept in the local index folder). */
export async function checkDue(
  cache: ManifestCache,
  host: string,
  now: Date,
  everyMs: number,
): Promise<boolean> {
  const last = (await readChecks(cache))[host];
  return last === undefined || now.getTime() - Date.parse(last) >= everyMs || Number.isNaN(Date.parse(last));
}

/** Records a check that found the store complete (or the run that re-uploaded what was not). */
export async function recordCheck(cache: ManifestCache, host: string, now: Date): Promise<void> {
  const checks = await readChecks(cache);
  checks[host] = now.toISOString();
  // Private like the rest of the index folder (DESIGN invariant 9): it names the hosts.
  await writeJsonFile(cache.filePath(FILE), checks);
}

async function readChecks(cache: ManifestCache): Promise<Record<string, string>> {
  const parsed = await readJsonFile(cache.filePath(FILE));
  // Missing or damaged: the check simply runs.
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, string>)
    : {};
}
