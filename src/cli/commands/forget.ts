import { findReplica, type ResolvedConfig } from '../../config/load.js';
import { stateFolder } from '../../config/paths.js';
import { UsageError } from '../../errors.js';
import { ManifestCache } from '../../repository/manifest-cache.js';
import { configuredPolicies, policyFromConfig } from '../../retention/configured-policy.js';
import { type ForgetResult, forget } from '../../retention/forget.js';
import { parseKeepWithin } from '../../retention/keep-within.js';
import {
  describeGroup,
  type GroupBy,
  isEmptyPolicy,
  onlySource,
  type PolicyChoice,
  type RetentionPolicy,
} from '../../retention/policy.js';
import { withRepository } from '../context.js';
import { type GlobalOptions, printResult } from '../output.js';
import { describePrune, runPrune } from './prune.js';

export interface ForgetFlags {
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  keepTag: string[];
  host?: string;
  source?: string;
  groupBy: string;
  dryRun?: boolean;
  prune?: boolean;
}

/** `twinvault forget`: removes the snapshots a retention policy does not keep (and prunes with --prune). */
export async function run(global: GlobalOptions, flags: ForgetFlags): Promise<void> {
  const given = policyOf(flags);
  const groupBy = groupByOf(flags.groupBy);
  if (flags.source !== undefined && !groupBy.includes('sources'))
    throw new UsageError('--source needs "sources" in --group-by: it thins the groups of that source only');
  await withRepository(global, async ({ backend, repository, config }) => {
    const chosen = isEmptyPolicy(given) ? configuredPolicy(config, global.repo) : given;
    // Other sources' groups keep everything: a snapshot that also holds them stays while they need it.
    const policy = flags.source === undefined ? chosen : onlySource(chosen, flags.source);
    const result = await forget({
      backend,
      cache: ManifestCache.forRepository(stateFolder(), repository.config.id),
      policy,
      groupBy,
      ...(flags.host ? { host: flags.host } : {}),
      dryRun: flags.dryRun ?? false,
      onWait: (why) => {
        if (!global.quiet) process.stderr.write(`${why}\n`);
      },
    });
    warn(global, result);
    const pruned = flags.prune
      ? await runPrune(global, backend, flags.dryRun ?? false, config.prices)
      : undefined;
    const groups = result.groups
      .filter((group) => flags.source === undefined || group.group.source === flags.source)
      .map((group) => ({
        group: group.group,
        snapshots: group.decisions.map((d) => ({
          id: d.snapshot.id,
          host: d.snapshot.host,
          stamp: d.snapshot.stamp,
          time: d.snapshot.time.toISOString(),
          keep: d.keep,
          reasons: d.reasons,
          ...(d.future ? { future: true } : {}),
        })),
      }));
    printResult(
      global,
      {
        dryRun: result.dryRun,
        removed: result.removed,
        kept: result.kept,
        groups,
        damaged: result.damaged.map((d) => ({ id: d.ref.id, key: d.ref.key, message: d.error.message })),
        ...(pruned ? { prune: pruned } : {}),
      },
      () => [
        ...groups.flatMap((group) => [
          `${describeGroup(group.group)}:`,
          ...group.snapshots.map((s) =>
            `  ${s.keep ? 'keep  ' : 'remove'}  ${s.id.slice(0, 8)}  ${s.host}/${s.stamp}  ${s.keep ? s.reasons.join(', ') : ''}${s.future ? ' (from the future)' : ''}`.trimEnd(),
          ),
        ]),
        `${result.dryRun ? 'would remove' : 'removed'} ${result.removed} snapshot(s), kept ${result.kept}${
          flags.prune || result.removed === 0 || result.dryRun
            ? ''
            : '; "twinvault prune" frees the objects only they needed'
        }`,
        ...(pruned ? describePrune(pruned) : []),
      ],
    );
  });
}

/**
 * On stderr: damaged snapshots in groups forget left alone, and snapshots from the future (kept,
 * and left out of every rule: see policy.ts).
 */
function warn(global: GlobalOptions, result: ForgetResult): void {
  if (global.quiet || global.json) return;
  for (const { ref, error } of result.damaged) {
    process.stderr.write(
      `warning: ${ref.key} cannot be read (${error.message}); kept, as is its group: repair it with "twinvault repair --from REPLICA"\n`,
    );
  }
  const told = new Set<string>();
  for (const group of result.groups) {
    for (const { snapshot } of group.decisions.filter((d) => d.future)) {
      if (told.has(snapshot.id)) continue; // a snapshot of several sources is in several groups
      told.add(snapshot.id);
      process.stderr.write(
        `warning: snapshot ${snapshot.id.slice(0, 8)} (${snapshot.host}/${snapshot.stamp}) is dated ${snapshot.time.toISOString()}, ahead of this machine's clock: kept, and left out of every rule (is the clock of ${snapshot.host} or of this machine wrong?)\n`,
      );
    }
  }
}

function policyOf(flags: ForgetFlags): RetentionPolicy {
  const count = (value: string | undefined, flag: string) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${flag} takes a whole number of 1 or more, not ${JSON.stringify(value)}`);
    return n;
  };
  const policy: RetentionPolicy = {};
  const set = (key: keyof RetentionPolicy, value: unknown) => {
    if (value !== undefined) (policy as Record<string, unknown>)[key] = value;
  };
  set('last', count(flags.keepLast, '--keep-last'));
  set('hourly', count(flags.keepHourly, '--keep-hourly'));
  set('daily', count(flags.keepDaily, '--keep-daily'));
  set('weekly', count(flags.keepWeekly, '--keep-weekly'));
  set('monthly', count(flags.keepMonthly, '--keep-monthly'));
  set('yearly', count(flags.keepYearly, '--keep-yearly'));
  if (flags.keepWithin !== undefined) policy.within = parseKeepWithin(flags.keepWithin);
  if (flags.keepTag.length > 0) policy.tags = flags.keepTag;
  return policy;
}

/**
 * Without --keep-* options: the config's policy. For a configured replica named by --repo, that
 * replica's own; otherwise each source's, else the top-level one.
 */
function configuredPolicy(config: ResolvedConfig, repo: string | undefined): PolicyChoice {
  const replica = repo ? findReplica(config.replicas, repo) : undefined;
  const policy = replica
    ? replica.retention
      ? policyFromConfig(replica.retention)
      : undefined
    : configuredPolicies(config);
  if (!policy) {
    throw new UsageError('no retention policy: give --keep-* options, or "retention" in the config', {
      hint: 'for example --keep-within 30d, or "retention": {"keepDaily": 7, "keepWeekly": 4}',
    });
  }
  return policy;
}

function groupByOf(value: string): GroupBy {
  const parts = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const part of parts) {
    if (!['host', 'sources', 'tags'].includes(part)) {
      throw new UsageError(
        `--group-by takes host, sources and tags (comma-separated) or "", not ${JSON.stringify(part)}`,
      );
    }
  }
  return parts as GroupBy;
}
