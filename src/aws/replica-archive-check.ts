import type { Backend } from '../backend/backend.js';
import { isTwinvaultError } from '../errors.js';
import { replicatePass } from '../replicate/pass.js';

/** A replica must hold an object at least this long before a new rule would archive it. */
export const ARCHIVE_NOTICE_DAYS = 7;
const DAY_MS = 86_400_000;

export interface ReplicaArchiveCheck {
  url: string;
  /** Objects the replica lacks, and the oldest of them (when it lacks any). */
  behind?: { objects: number; oldest: Date };
  /** The archive rule would reach objects the replica still lacks within ARCHIVE_NOTICE_DAYS. */
  atRisk: boolean;
  /** It could not be checked (unreachable, not a replica of this repository). */
  error?: string;
}

/**
 * Whether each replica holds what an archive transition after `archiveDay` days would soon make
 * uncopyable: a dry-run replication pass (listings only) finds the oldest object the replica
 * lacks. One lacking an object older than `archiveDay - ARCHIVE_NOTICE_DAYS` days is at risk:
 * once the rule archives that object in the repository, no pass can copy it any more.
 */
export async function checkReplicasBeforeArchive(
  source: Backend,
  replicas: ReadonlyArray<{ url: string; open: () => Promise<Backend> }>,
  archiveDay: number,
  now: Date,
): Promise<ReplicaArchiveCheck[]> {
  const limit = now.getTime() - (archiveDay - ARCHIVE_NOTICE_DAYS) * DAY_MS;
  const checks: ReplicaArchiveCheck[] = [];
  for (const replica of replicas) {
    let backend: Backend | undefined;
    try {
      backend = await replica.open();
      const pass = await replicatePass({ source, destination: backend, dryRun: true });
      const { objects, oldest } = pass.behind;
      if (objects === 0 || oldest === undefined) {
        checks.push({ url: replica.url, atRisk: false });
        continue;
      }
      const oldestDate = new Date(oldest);
      checks.push({
        url: replica.url,
        behind: { objects, oldest: oldestDate },
        atRisk: oldestDate.getTime() <= limit,
      });
    } catch (err) {
      if (!isTwinvaultError(err)) throw err;
      checks.push({ url: replica.url, atRisk: false, error: err.message });
    } finally {
      await backend?.close().catch(() => {});
    }
  }
  return checks;
}
