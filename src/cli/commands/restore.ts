import type { Backend } from '../../backend/backend.js';
import { openBackend } from '../../backend/registry.js';
import { stateFolder } from '../../config/paths.js';
import { isTwinvaultError, TwinvaultError, UsageError } from '../../errors.js';
import { targetOf } from '../../replicate/targets.js';
import { ManifestCache } from '../../repository/manifest-cache.js';
import { openRepository } from '../../repository/repository.js';
import type { SnapshotRef } from '../../repository/snapshots.js';
import { archivedContentStep } from '../../restore/archived.js';
import { DEFAULT_OVERWRITE, OVERWRITE_MODES, type OverwriteMode } from '../../restore/overwrite.js';
import { type RestoreSummary, restore } from '../../restore/restore.js';
import type { ManifestDamage } from '../../restore/salvage-entries.js';
import { type CommandContext, loadCliConfig, withRepository } from '../context.js';
import { escapeForTerminal as shown } from '../escape.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatDuration } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';
import { restoreProgress } from '../progress.js';
import { type RestoreCommandFlags, restoreCommandFor } from '../restore-hint.js';
import { archivedContentReporter, retrievalPolicy } from '../retrieval-flags.js';
import { findSnapshot, selectionOf } from '../snapshot-arg.js';

interface RestoreFlags extends RestoreCommandFlags {
  fallback?: boolean;
}

export async function run(global: GlobalOptions, flags: RestoreFlags, args: string[]): Promise<void> {
  const overwrite = flags.overwrite as OverwriteMode;
  if (!OVERWRITE_MODES.includes(overwrite))
    throw new UsageError(
      `--overwrite must be one of ${OVERWRITE_MODES.join(', ')}, not "${flags.overwrite}"`,
    );
  const config = await loadCliConfig(global);
  const replicas = config.replicas.filter(
    (replica) => replica.url.replace(/\/+$/, '') !== config.repository.url.replace(/\/+$/, ''),
  );
  const fallbacks: Backend[] = [];
  try {
    for (const replica of replicas) fallbacks.push(await openBackend(targetOf(config, replica.url).settings));
    // The snapshot is pinned once found, so a retry from the replica restores the same one.
    const pinned: { ref?: SnapshotRef } = {};
    try {
      await withRepository(global, (context) =>
        restoreFrom(global, flags, args, overwrite, context, fallbacks, pinned),
      );
    } catch (err) {
      // The repository itself cannot be reached: the replica can serve the whole restore.
      const unreachable =
        isTwinvaultError(err) &&
        (UNREACHABLE.includes(err.code) ||
          (err.code === 'NOT_FOUND' && err.message.startsWith('no twinvault repository')));
      if (!unreachable || fallbacks.length === 0) throw err;
      if (!flags.fallback) {
        throw new TwinvaultError(err.code, err.message, {
          cause: err,
          hint: `restore from the replica: add --fallback, or run: ${restoreCommandFor(replicas[0]!.url, global, flags, args, DEFAULT_OVERWRITE)}`,
        });
      }
      process.stderr.write(
        `${err.message}\n${pinned.ref ? 'the restore stopped partway; ' : ''}restoring from the replica ${fallbacks[0]!.location} instead (--fallback)\n`,
      );
      const repository = await openRepository(fallbacks[0]!);
      const again = pinned.ref ? [`${pinned.ref.host}/${pinned.ref.stamp}`] : args;
      await restoreFrom(
        global,
        flags,
        again,
        overwrite,
        { backend: fallbacks[0]!, repository, config },
        fallbacks.slice(1),
        pinned,
      );
    }
  } finally {
    for (const fallback of fallbacks) await fallback.close().catch(() => {});
  }
}

/** The repository cannot serve a restore at all: unreachable, refused, gone (no config), or damaged. */
const UNREACHABLE = [
  'STORAGE_UNREACHABLE',
  'BUCKET_NOT_FOUND',
  'ACCESS_DENIED',
  'STORAGE_FAILED',
  'INTEGRITY',
];

async function restoreFrom(
  global: GlobalOptions,
  flags: RestoreFlags,
  args: string[],
  overwrite: OverwriteMode,
  { backend, repository }: Pick<CommandContext, 'backend' | 'repository' | 'config'>,
  fallbacks: Backend[],
  pinned: { ref?: SnapshotRef },
): Promise<void> {
  const snapshot = await findSnapshot(
    global,
    { backend, repository },
    args[0]!,
    selectionOf(flags, flags.include),
  );
  pinned.ref = snapshot;
  const progress = restoreProgress(global);
  let summary: Awaited<ReturnType<typeof restore>>;
  try {
    summary = await restore({
      repository,
      snapshot,
      target: flags.target,
      include: flags.include,
      overwrite,
      dryRun: flags.dryRun ?? false,
      keepSetid: flags.keepSetid ?? false,
      fallbacks,
      localManifests: ManifestCache.forRepository(stateFolder(), repository.config.id),
      // Archived content: from a replica that has it readable, else retrieved, before any write.
      prepareDownloads: archivedContentStep({
        replicas: fallbacks,
        policy: retrievalPolicy(global, flags, flags.dryRun ?? false),
        onReport: archivedContentReporter(global, flags.dryRun ?? false),
      }),
      onEvent: (event) => {
        if (event.type === 'fallback' && !global.quiet && !global.json) {
          process.stderr.write(
            `${shown(event.key)}: ${shown(event.reason)}; fetched from the replica ${event.from}\n`,
          );
        }
        progress.onEvent(event);
      },
    });
  } finally {
    progress.stop();
  }
  printResult(global, summary, () => summaryLines(summary, snapshot));
  // Local files newer than the snapshot's versions were kept: the restore is partial.
  if (summary.kept.length > 0 && !summary.dryRun) process.exitCode = EXIT.partial;
  reportManifestDamage(global, summary.manifestDamage);
  reportCachedManifest(global, summary.manifestFromCache);
}

/**
 * The restore read the manifest from this machine's cache, as no copy in the repository (or a
 * replica) reads in full: complete and checked, so it succeeds, but the repository needs care.
 */
function reportCachedManifest(global: GlobalOptions, used: RestoreSummary['manifestFromCache']): void {
  if (!used || global.quiet) return;
  process.stderr.write(
    [
      `warning: the repository's copy of ${shown(used.key)} cannot be read (${shown(used.reason)})`,
      `  restored from this machine's intact cached copy of it (${shown(used.from)}); every file was still checked against its SHA-256`,
      `  hint: "twinvault verify" lists what is damaged in the repository; "twinvault repair --from REPLICA" restores it from a replica, if one holds it intact`,
      '',
    ].join('\n'),
  );
}

/**
 * A restore from a damaged manifest restored what could be read: what could not is said on stderr
 * (also with --json, where the summary holds it as manifestDamage), and the exit code is 3.
 */
function reportManifestDamage(global: GlobalOptions, damage: ManifestDamage | undefined): void {
  if (!damage) return;
  process.exitCode = EXIT.partial;
  if (global.quiet) return;
  process.stderr.write(
    [
      `warning: the manifest ${shown(damage.key)} is damaged (${shown(damage.message)})`,
      `  restored what could be read from ${damage.from}; ${damage.lost} of its ${damage.listed} entries could not be read and were not restored:`,
      ...damage.problems.map((problem) => `    ${shown(problem)}`),
      '  hint: "twinvault repair --from REPLICA" restores the manifest from a replica, if one holds it intact',
      '',
    ].join('\n'),
  );
}

const PLAN_WORDS: Record<NonNullable<RestoreSummary['plan']>[number]['action'], string> = {
  restore: 'restore',
  replace: 'replace',
  'keep-newer': 'keep (newer)',
  'skip-existing': 'keep (exists)',
  'skip-identical': 'identical',
};

function summaryLines(summary: RestoreSummary, snapshot: SnapshotRef): string[] {
  const { files } = summary;
  const would = summary.dryRun ? 'would be ' : '';
  return [
    ...(summary.plan ?? []).map(
      (step) => `${PLAN_WORDS[step.action].padEnd(14)} ${step.type.padEnd(7)} ${shown(step.path)}`,
    ),
    ...(summary.dryRun ? [] : summary.kept).map(
      (kept) =>
        `kept ${shown(kept.path)}: the local copy (${kept.localTime}) is newer than the snapshot's (${kept.snapshotTime})`,
    ),
    `${summary.dryRun ? 'would restore' : 'restored'} snapshot ${snapshot.id.slice(0, 8)} (${snapshot.host}/${snapshot.stamp}) into ${shown(summary.target)}`,
    `  files: ${files.restored - files.replaced} ${would}new, ${files.replaced} ${would}replaced, ${files.skippedIdentical} already identical, ${files.keptNewer} newer local kept, ${files.skippedExisting} existing left alone`,
    `  ${formatBytes(summary.bytesRestored)} ${summary.dryRun ? 'to write' : 'written'}, every file checked against its SHA-256, in ${formatDuration(summary.durationMs)}`,
    ...(summary.fromReplica.length > 0
      ? [
          `  ${summary.fromReplica.length} file(s) came from a replica: the repository's copy failed (twinvault verify; twinvault repair --from)`,
        ]
      : []),
    ...(summary.kept.length > 0
      ? [
          `  ${summary.kept.length} local file(s) newer than the snapshot's version ${summary.dryRun ? 'would be' : 'were'} kept (listed above); --overwrite always replaces them`,
        ]
      : []),
    ...(summary.setIdCleared.length > 0
      ? [
          `  ${summary.setIdCleared.length} entr${summary.setIdCleared.length === 1 ? 'y' : 'ies'} restored without set-uid/set-gid bits (--keep-setid keeps them)`,
        ]
      : []),
  ];
}
