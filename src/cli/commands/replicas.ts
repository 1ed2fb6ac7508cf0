import { openBackend } from '../../backend/registry.js';
import { systemClock } from '../../clock.js';
import { stateFolder } from '../../config/paths.js';
import { PassRecords } from '../../replicate/pass-record.js';
import { replicateToAll } from '../../replicate/replicate.js';
import { replicaTargets } from '../../replicate/targets.js';
import { readRepoConfig } from '../../repository/repo-config.js';
import { loadCliConfig } from '../context.js';
import { exitCodeFor } from '../exit-codes.js';
import { formatBytes, formatDuration, table } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';

/**
 * `twinvault replicas`: per configured replica, what it lacks now (a dry-run pass: listings
 * only), how old the oldest missing object is (the replication lag), and this machine's record
 * of the last pass and the last error.
 */
export async function run(global: GlobalOptions): Promise<void> {
  const config = await loadCliConfig(global);
  const targets = replicaTargets(config);
  const source = await openBackend(config.repository);
  try {
    const repository = await readRepoConfig(source);
    const records = new PassRecords(stateFolder(), repository.id);
    const now = systemClock.now();
    const outcomes = await replicateToAll(source, targets, { dryRun: true });
    const rows = await Promise.all(
      outcomes.map(async (outcome) => {
        const record = await records.read(outcome.location);
        const behind = outcome.summary?.behind;
        return {
          replica: outcome.location,
          deletes: outcome.target.deletes.policy,
          reachable: outcome.error === undefined,
          ...(behind
            ? {
                behindObjects: behind.objects,
                behindBytes: behind.bytes,
                lagSeconds:
                  behind.oldest === undefined
                    ? 0
                    : Math.max(0, (now.getTime() - Date.parse(behind.oldest)) / 1000),
                pendingDeletes: outcome.summary!.deletes.waiting,
              }
            : {}),
          lastPass: record?.lastPass?.finishedAt,
          lastError: outcome.error?.message ?? record?.lastError?.message,
          lastErrorAt: outcome.error ? now.toISOString() : record?.lastError?.at,
        };
      }),
    );
    printResult(global, rows, () => [
      ...table(
        ['replica', 'behind', 'lag', 'last pass', 'deletes'],
        rows.map((row) => [
          row.replica,
          row.behindObjects === undefined
            ? 'unknown'
            : `${row.behindObjects} objects, ${formatBytes(row.behindBytes!)}`,
          row.lagSeconds === undefined ? '-' : formatDuration(Math.round(row.lagSeconds * 1000)),
          row.lastPass ?? 'never (from this machine)',
          row.deletes,
        ]),
      ),
      ...rows.flatMap((row) =>
        row.lastError ? [`${row.replica}: last error (${row.lastErrorAt}): ${row.lastError}`] : [],
      ),
    ]);
    const failed = outcomes.find((outcome) => outcome.error);
    if (failed?.error) process.exitCode = exitCodeFor(failed.error.code);
  } finally {
    await source.close();
  }
}
