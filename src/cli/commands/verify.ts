import type { Backend } from '../../backend/backend.js';
import { openBackend } from '../../backend/registry.js';
import { isTwinvaultError, UsageError } from '../../errors.js';
import { replicatePass } from '../../replicate/pass.js';
import { replicaTargets } from '../../replicate/targets.js';
import { readArchived } from '../../verify/archived.js';
import { parseReadSubset } from '../../verify/read-subset.js';
import { type VerifyResult, verifyRepository } from '../../verify/verify.js';
import { withRepository } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';
import { describeArchivedReads, type RetrievalFlags, retrievalPolicy } from '../retrieval-flags.js';

const FIXES: Record<string, string> = {
  config: 'twinvault repair --from REPLICA_URL',
  'damaged-manifest': 'twinvault repair --from REPLICA_URL (or forget the snapshot)',
  missing: 'twinvault repair --from REPLICA_URL',
  'wrong-size': 'twinvault repair --from REPLICA_URL',
  corrupt: 'twinvault repair --from REPLICA_URL --read-data',
  unreadable:
    'twinvault verify --read-data again; if it stays, twinvault repair --from REPLICA_URL --read-data',
};

/** `twinvault verify`: checks the repository (and its replicas); exit code 5 when anything is wrong. */
export async function run(
  global: GlobalOptions,
  flags: RetrievalFlags & { replicas?: boolean; readData?: string | true },
): Promise<void> {
  const readData = flags.readData === undefined ? undefined : parseReadSubset(flags.readData);
  if (!readData && (flags.requestArchived || flags.wait || flags.tier || flags.days))
    throw new UsageError('--request-archived, --tier, --days and --wait go with --read-data');
  // Archived objects chosen for reading: restored copies are read, the rest asked for or reported.
  const options = readData ? { readData, archived: readArchived(retrievalPolicy(global, flags)) } : {};
  await withRepository(global, async ({ backend, config }) => {
    const results: Array<
      VerifyResult & { drift?: { behind: number; bytes: number; extra: number }; error?: string }
    > = [await verifyRepository(backend, options)];
    if (flags.replicas) {
      for (const target of replicaTargets(config)) {
        let replica: Backend | undefined;
        try {
          replica = await openBackend(target.settings);
          const verified = await verifyRepository(replica, options);
          const pass = await replicatePass({ source: backend, destination: replica, dryRun: true });
          results.push({
            ...verified,
            drift: { behind: pass.behind.objects, bytes: pass.behind.bytes, extra: pass.extra },
          });
        } catch (err) {
          if (!isTwinvaultError(err)) throw err;
          // A replica that cannot be checked is a finding, not a reason to lose the others'.
          results.push({
            location: replica?.location ?? target.url,
            snapshots: 0,
            objects: 0,
            problems: [],
            error: err.message,
          });
        } finally {
          await replica?.close();
        }
      }
    }
    // Damage, or a copy that cannot be checked, fails; a replica merely behind (lag) does not.
    const bad = results.some((r) => r.problems.length > 0 || r.error !== undefined);
    printResult(global, { ok: !bad, repositories: results }, () =>
      results.flatMap((r) =>
        r.error
          ? [`${r.location}: could not be checked: ${r.error}`]
          : [
              `${r.location}: ${r.snapshots} snapshot(s), ${r.objects} referenced object(s) checked for presence and size${
                r.readData
                  ? `; ${r.readData.objects} read (${formatBytes(r.readData.bytes)}) and checked against SHA-256`
                  : ''
              }`,
              ...describeArchivedReads(r.archived),
              ...(r.drift && r.drift.behind > 0
                ? [
                    `  behind the repository by ${r.drift.behind} object(s) (${formatBytes(r.drift.bytes)}): twinvault replicate`,
                  ]
                : []),
              ...r.problems.map(
                (p) =>
                  `  ${p.kind}: ${p.key} ${p.message}; hurts ${p.snapshots.map((id) => id.slice(0, 8)).join(', ') || 'the repository'}; fix: ${FIXES[p.kind]}`,
              ),
              r.problems.length === 0 ? '  no problems' : `  ${r.problems.length} problem(s)`,
            ],
      ),
    );
    if (bad) process.exitCode = EXIT.integrity;
    else if (results.some((r) => (r.archived?.notRead.objects ?? 0) > 0)) process.exitCode = EXIT.archived;
    else if (results.some((r) => (r.archived?.pending ?? 0) > 0)) process.exitCode = EXIT.retrievalPending;
  });
}
