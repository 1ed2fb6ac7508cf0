import { RESTORE_TIERS, type RestoreTier } from '../backend/archive.js';
import { systemClock } from '../clock.js';
import { UsageError } from '../errors.js';
import { type ArchivedContentReport, describeFromReplicas } from '../restore/archived.js';
import { describeArchived, requestHint } from '../retrieval/messages.js';
import { formatUsd } from '../retrieval/retrieval-prices.js';
import type { RetrievalEvent, RetrievalPolicy, RetrievalStatus } from '../retrieval/retrieve.js';
import type { ArchivedReadReport } from '../verify/archived.js';
import { formatBytes } from './format.js';
import type { GlobalOptions } from './output.js';

/** The flags of `restore` and `verify --read-data` for archived objects. */
export interface RetrievalFlags {
  requestArchived?: boolean;
  tier?: string;
  days?: string;
  wait?: boolean;
}

import { DEFAULT_DAYS } from './retrieval-options.js';

/** The policy the flags ask for, with progress lines on stderr (not with --json or --quiet). */
export function retrievalPolicy(
  global: GlobalOptions,
  flags: RetrievalFlags,
  dryRun = false,
): RetrievalPolicy {
  if (!flags.requestArchived && (flags.tier !== undefined || flags.days !== undefined))
    throw new UsageError('--tier and --days go with --request-archived');
  const tier = (flags.tier ?? 'Bulk') as RestoreTier;
  if (!RESTORE_TIERS.includes(tier))
    throw new UsageError(`--tier must be one of ${RESTORE_TIERS.join(', ')}, not "${flags.tier}"`);
  const days = Number(flags.days ?? DEFAULT_DAYS);
  if (!Number.isInteger(days) || days < 1 || days > 365)
    throw new UsageError(`--days takes a whole number of days from 1 to 365, not ${flags.days}`);
  const tell = (line: string) => {
    if (!global.json && !global.quiet) process.stderr.write(`${line}\n`);
  };
  return {
    ...(flags.requestArchived ? { request: { tier, days } } : {}),
    ...(flags.wait ? { wait: { clock: systemClock } } : {}),
    dryRun,
    onEvent: (event) => tell(describeEvent(event)),
  };
}

function describeEvent(event: RetrievalEvent): string {
  switch (event.type) {
    case 'requesting':
      return `asking S3 to restore ${event.objects} archived object(s) (${formatBytes(event.bytes)}), ${event.estimate.tier} tier: estimated ${formatUsd(event.estimate.usd)} (AWS list prices, approximate)`;
    case 'requested':
      return `  requested ${event.done}/${event.total}`;
    case 'waiting':
      return `waiting for S3: ${event.ready} of ${event.total} archived object(s) ready; next check at ${event.nextCheck.toISOString()}`;
  }
}

/** A dry run's lines about archived objects: what would be asked for, and at what cost. */
export function describeDryRun(status: RetrievalStatus | undefined): string[] {
  if (status === undefined || status.notRequested.length === 0) return [];
  return [
    `would need archived objects: ${describeArchived(status.notRequested)}`,
    `  ${requestHint(status.notRequested)}`,
  ];
}

/** Tells, on stderr, what a restore did about archived content (replicas used; a dry run's needs). */
export function archivedContentReporter(
  global: GlobalOptions,
  dryRun: boolean,
): (report: ArchivedContentReport) => void {
  return (report) => {
    if (global.json || global.quiet) return;
    const lines = [...describeFromReplicas(report), ...(dryRun ? describeDryRun(report.retrieval) : [])];
    for (const line of lines) process.stderr.write(`${line}\n`);
  };
}

/** The lines of `verify --read-data` about archived objects: read, not read (and how), under way. */
export function describeArchivedReads(report: ArchivedReadReport | undefined): string[] {
  if (report === undefined || report.objects === 0) return [];
  const lines = [
    `  ${report.objects} archived object(s) chosen (${formatBytes(report.bytes)}): ${report.read} read from restored copies, ${report.notRead.objects} not read (archived), ${report.pending} being restored`,
  ];
  if (report.requested > 0) {
    lines.push(
      `  asked S3 to restore ${report.requested} of them (estimated ${formatUsd(report.estimateUsd ?? 0)}): run the same command again once they are ready, or add --wait`,
    );
  } else if (report.pending > 0 && report.notRead.objects === 0) {
    lines.push('  run the same command again once they are ready, or add --wait');
  }
  if (report.notRead.objects > 0) {
    lines.push(
      `  not read: ${report.notRead.keys.map((key) => JSON.stringify(key)).join(', ')}${report.notRead.objects > report.notRead.keys.length ? ', …' : ''}`,
    );
    if (report.hint) lines.push(`  to read them, ${report.hint}`);
  }
  return lines;
}
