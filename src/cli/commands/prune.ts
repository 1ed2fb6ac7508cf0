import type { Backend } from '../../backend/backend.js';
import type { EarlyDeletionCharge } from '../../retention/early-deletion.js';
import { type PruneResult, prune } from '../../retention/prune.js';
import { formatUsd } from '../../retrieval/retrieval-prices.js';
import { withRepository } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';

/** `twinvault prune`: deletes the objects no snapshot references. */
export async function run(global: GlobalOptions, flags: { dryRun?: boolean }): Promise<void> {
  await withRepository(global, async ({ backend, config }) => {
    const result = await runPrune(global, backend, flags.dryRun ?? false, config.prices);
    printResult(global, result, () => describePrune(result));
  });
}

export async function runPrune(
  global: GlobalOptions,
  backend: Backend,
  dryRun: boolean,
  prices: Partial<Record<string, number>> = {},
): Promise<PruneResult> {
  const result = await prune({
    backend,
    dryRun,
    prices,
    onWait: (why) => {
      if (!global.quiet) process.stderr.write(`${why}\n`);
    },
    onEarlyDeletion: (charge) => {
      if (!global.quiet && !global.json)
        process.stderr.write(`warning: ${describeEarlyDeletion(charge, dryRun)}\n`);
    },
  });
  if (result.failed.length > 0) process.exitCode = EXIT.partial;
  return result;
}

export function describePrune(result: PruneResult): string[] {
  const verb = result.dryRun ? 'would delete' : 'deleted';
  return [
    `${result.snapshots} snapshot(s) reference ${result.referenced} object(s)`,
    `${verb} ${result.deleted.objects} unreferenced object(s), freeing ${formatBytes(result.deleted.bytes)}`,
    ...(result.keptForRunningBackups > 0
      ? [
          `kept ${result.keptForRunningBackups} written since a running backup began (the next prune looks again)`,
        ]
      : []),
    ...(result.keptForResume.objects > 0
      ? [
          `kept ${result.keptForResume.objects} object(s) (${formatBytes(result.keptForResume.bytes)}) an interrupted backup uploaded: its next run takes them up (deleted 30 days after upload if none does)`,
        ]
      : []),
    ...(result.locked.objects > 0
      ? [
          `kept ${result.locked.objects} object(s) (${formatBytes(result.locked.bytes)}) under Object Lock, the first free on ${result.locked.until}`,
        ]
      : []),
    ...(result.staleLocksRemoved > 0
      ? [`${result.dryRun ? 'would remove' : 'removed'} ${result.staleLocksRemoved} stale lock(s)`]
      : []),
    ...(result.abandonedWrites.files > 0
      ? [
          `${result.dryRun ? 'would remove' : 'removed'} ${result.abandonedWrites.files} unfinished temporary file(s) (${formatBytes(result.abandonedWrites.bytes)}) left by killed processes`,
        ]
      : []),
    ...result.failed.map((failure) => `could not delete ${failure.key}: ${failure.message}`),
  ];
}

/** The warning about objects deleted before their class's minimum duration. */
export function describeEarlyDeletion(charge: EarlyDeletionCharge, dryRun: boolean): string {
  const classes = Object.entries(charge.byClass)
    .map(([name, slot]) => `${name}: ${slot.objects}, minimum ${slot.minimumDays} days`)
    .join('; ');
  return `${charge.objects} object(s) (${formatBytes(charge.bytes)}) ${dryRun ? 'would be' : 'are being'} deleted before their storage class's minimum duration (${classes}): S3 bills the rest of it all the same, an estimated ${formatUsd(charge.usd)} or more (list prices)`;
}
