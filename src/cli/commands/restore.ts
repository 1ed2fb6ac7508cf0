import { UsageError } from '../../errors.js';
import { type OverwriteMode, restore } from '../../restore/restore.js';
import { withRepository } from '../context.js';
import { formatBytes, formatDuration } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';
import { restoreProgress } from '../progress.js';
import { findSnapshot } from '../snapshot-arg.js';

interface RestoreFlags {
  target: string;
  include: string[];
  overwrite: string;
  dryRun?: boolean;
  host?: string;
}

const MODES: OverwriteMode[] = ['never', 'if-changed', 'always'];

export async function run(global: GlobalOptions, flags: RestoreFlags, args: string[]): Promise<void> {
  const overwrite = flags.overwrite as OverwriteMode;
  if (!MODES.includes(overwrite))
    throw new UsageError(`--overwrite must be one of ${MODES.join(', ')}, not "${flags.overwrite}"`);
  await withRepository(global, async ({ backend, repository }) => {
    const snapshot = await findSnapshot(backend, args[0]!, flags.host);
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
        onEvent: (event) => progress.onEvent(event),
      });
    } finally {
      progress.stop();
    }
    const { files } = summary;
    printResult(global, summary, () => [
      ...(summary.plan ?? []).map((step) => `${step.action.padEnd(14)} ${step.type.padEnd(7)} ${step.path}`),
      `${summary.dryRun ? 'would restore' : 'restored'} snapshot ${snapshot.id.slice(0, 8)} (${snapshot.host}/${snapshot.stamp}) into ${summary.target}`,
      `  files: ${files.restored} restored, ${files.skippedIdentical} already identical, ${files.skippedExisting} existing left alone`,
      `  ${formatBytes(summary.bytesRestored)} written, every file checked against its SHA-256, in ${formatDuration(summary.durationMs)}`,
    ]);
  });
}
