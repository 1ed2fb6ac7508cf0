import { resolve } from 'node:path';
import { observeAttempts } from '../../backend/attempts.js';
import { type BackupSource, backup, startBackupScan } from '../../backup/backup.js';
import type { ScanHandle } from '../../backup/scan/parallel-scan.js';
import type { ResolvedConfig } from '../../config/load.js';
import { stateFolder } from '../../config/paths.js';
import { limitHeapGrowth } from '../../util/heap-limit.js';
import { type CommandContext, hostOf, withRepository } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatDuration } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';
import { backupProgress, sayAttempt } from '../progress.js';

interface BackupFlags {
  host?: string;
  tag: string[];
  exclude: string[];
  checkStored?: boolean;
  allowEmpty?: boolean;
}

export async function run(global: GlobalOptions, flags: BackupFlags, paths: string[]): Promise<void> {
  limitHeapGrowth();
  const sourcesOf = (config: ResolvedConfig): BackupSource[] =>
    paths.length > 0 ? paths.map((path) => configuredSource(config, path)) : config.sources;
  // The scan starts as soon as the sources are known, while the repository is being opened.
  let scan: ScanHandle | undefined;
  try {
    // Opening the repository is not retried (a wrong endpoint should fail at once), but a store
    // that stalls says so; during the backup itself, backup() reports its retries as events.
    await observeAttempts(sayAttempt(global), () =>
      withRepository(global, (context) => report(global, flags, context, sourcesOf(context.config), scan), {
        autoInit: true,
        beforeOpen: (config) => {
          scan = startBackupScan({ sources: sourcesOf(config), exclude: flags.exclude });
        },
      }),
    );
  } finally {
    scan?.stop();
  }
}

async function report(
  global: GlobalOptions,
  flags: BackupFlags,
  { config, repository }: CommandContext,
  sources: BackupSource[],
  scan: ScanHandle | undefined,
): Promise<void> {
  {
    const progress = backupProgress(global);
    let summary: Awaited<ReturnType<typeof backup>>;
    try {
      summary = await backup({
        repository,
        sources,
        host: flags.host ?? hostOf(config),
        tags: flags.tag,
        exclude: flags.exclude,
        stateFolder: stateFolder(),
        ...(scan ? { scan } : {}),
        ...(flags.checkStored ? { checkStoredEveryMs: 0 } : {}),
        ...(flags.allowEmpty ? { allowEmpty: true } : {}),
        ...(config.repository.retryFor === undefined ? {} : { storeRetryMs: config.repository.retryFor }),
        onEvent: (event) => progress.onEvent(event),
      });
    } finally {
      progress.stop();
    }
    const { files } = summary;
    printResult(global, summary, () => [
      `snapshot ${summary.id.slice(0, 8)} (${summary.host}/${summary.stamp}) saved`,
      `  files: ${files.new} new, ${files.changed} changed, ${files.unchanged} unchanged, ${files.skipped} skipped`,
      `  ${formatBytes(summary.bytesTotal)} in snapshot, ${formatBytes(summary.bytesRead)} read, ${formatBytes(summary.bytesUploaded)} uploaded in ${formatDuration(summary.durationMs)}`,
      ...(summary.missingObjects > 0
        ? [
            `  ${summary.missingObjects} objects the last snapshot needed were missing from the repository; their files were uploaded again`,
          ]
        : []),
      ...(summary.resumed.files > 0
        ? [
            `  ${summary.resumed.files} files (${formatBytes(summary.resumed.bytes)}) were already uploaded by an interrupted backup and were not sent again`,
          ]
        : []),
      ...(files.skipped > 0
        ? [`  ${files.skipped} could not be read and were skipped (listed above); exit code 3`]
        : []),
    ]);
    if (files.skipped > 0) process.exitCode = EXIT.partial;
  }
}

/**
 * A folder given on the command line that is also a configured source is backed up as that
 * source (its name, include and exclude rules): so a manual backup lands in the same retention
 * group as the agent's snapshots of it, and builds on them.
 */
function configuredSource(config: ResolvedConfig, path: string): BackupSource {
  const wanted = resolve(path);
  return config.sources.find((source) => resolve(source.path) === wanted) ?? { path };
}
