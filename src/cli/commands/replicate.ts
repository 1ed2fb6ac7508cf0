import { openBackend } from '../../backend/registry.js';
import { systemClock } from '../../clock.js';
import { stateFolder } from '../../config/paths.js';
import { UsageError } from '../../errors.js';
import type { PassSummary } from '../../replicate/events.js';
import { PassRecords } from '../../replicate/pass-record.js';
import { type ReplicaOutcome, replicateToAll } from '../../replicate/replicate.js';
import { replicaTargets, sourceSettings } from '../../replicate/targets.js';
import { readRepoConfig } from '../../repository/repo-config.js';
import { loadCliConfig } from '../context.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { formatBytes, formatDuration } from '../format.js';
import { type GlobalOptions, printError, printResult } from '../output.js';

export interface ReplicateFlags {
  to: string[];
  from?: string;
  dryRun?: boolean;
  listen?: string;
  sqs?: string;
  tokenFile?: string;
  schedule?: string;
}

/** `twinvault replicate`: one pass to each replica, or live mode with --listen / --sqs. */
export async function run(global: GlobalOptions, flags: ReplicateFlags): Promise<void> {
  if (flags.listen !== undefined || flags.sqs !== undefined) {
    const live = await import('./replicate-live.js');
    return live.runLive(global, flags);
  }
  if (flags.schedule !== undefined || flags.tokenFile !== undefined) {
    throw new UsageError('--schedule and --token-file go with --listen or --sqs (live mode)');
  }
  const config = await loadCliConfig(global);
  const targets = replicaTargets(config, flags.to);
  const source = await openBackend(sourceSettings(config, flags.from));
  try {
    const repository = await readRepoConfig(source);
    const outcomes = await replicateToAll(source, targets, {
      dryRun: flags.dryRun ?? false,
      clock: systemClock,
      records: new PassRecords(stateFolder(), repository.id),
      onEvent: (_target, event) => {
        if (global.verbose && !global.json && event.type !== 'failed' && event.type !== 'held') {
          process.stderr.write(`${event.type} ${event.key}\n`);
        }
      },
    });
    report(global, outcomes);
  } finally {
    await source.close();
  }
}

function report(global: GlobalOptions, outcomes: ReplicaOutcome[]): void {
  printResult(
    global,
    outcomes.map((outcome) => ({
      replica: outcome.location,
      ...(outcome.summary ? { summary: outcome.summary } : {}),
      ...(outcome.error ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
    })),
    () => outcomes.flatMap((outcome) => (outcome.summary ? describeSummary(outcome.summary) : [])),
  );
  for (const outcome of outcomes) if (outcome.error && !global.json) printError(outcome.error, global);
  const failed = outcomes.find((outcome) => outcome.error);
  if (failed?.error) {
    process.exitCode = exitCodeFor(failed.error.code);
  } else if (outcomes.some((outcome) => (outcome.summary?.problems.length ?? 0) > 0)) {
    process.exitCode = EXIT.partial;
  }
}

export function describeSummary(summary: PassSummary): string[] {
  const { objects, manifests, deletes, behind } = summary;
  const took = formatDuration(Date.parse(summary.finishedAt) - Date.parse(summary.startedAt));
  const lines = [`replica ${summary.destination}${summary.dryRun ? ' (dry run: nothing changed)' : ''}`];
  if (summary.dryRun) {
    lines.push(
      `  would copy ${behind.objects} object(s) (${formatBytes(behind.bytes)}), ${manifests.copied} snapshot(s)`,
    );
  } else {
    lines.push(
      `  copied ${objects.copied} object(s) (${formatBytes(objects.copiedBytes)}), ${manifests.copied} of them snapshot manifests, in ${took}; ${objects.unchanged} already there`,
    );
  }
  if (objects.vanished > 0)
    lines.push(`  ${objects.vanished} object(s) were deleted in the source meanwhile`);
  if (deletes.policy === 'keep') lines.push('  deletes: kept (policy "keep")');
  else {
    lines.push(
      `  deletes (policy "${deletes.policy}"): ${deletes.deleted} ${summary.dryRun ? 'would be ' : ''}deleted, ${deletes.waiting} waiting, ${deletes.kept} kept (still referenced)`,
    );
  }
  if (summary.problems.length > 0) {
    lines.push(`  ${objects.failed + manifests.held} problem(s); exit code 3:`);
    for (const problem of summary.problems) lines.push(`    ${problem.key}: ${problem.message}`);
  }
  return lines;
}
