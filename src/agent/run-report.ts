import type { BackupSummary } from '../backup/backup.js';
import { redactUrlPassword } from '../config/redact.js';
import { isTwinvaultError } from '../errors.js';
import type { Logger } from './log.js';
import type { SourceStatus } from './state.js';

/** What the agent says after a backup: helpers of agent.ts. */

export function outcomeOf(
  summary: BackupSummary,
  started: Date,
  ended: Date,
): NonNullable<SourceStatus['lastRun']> {
  return {
    at: started.toISOString(),
    outcome: summary.files.skipped > 0 ? 'partial' : 'ok',
    snapshot: summary.id,
    files: summary.files,
    bytesUploaded: summary.bytesUploaded,
    durationMs: ended.getTime() - started.getTime(),
  };
}

export function logSummary(log: Logger, summary: BackupSummary): void {
  for (const skipped of summary.skipped)
    log.warn({ file: skipped.path, reason: skipped.reason }, 'file skipped');
  log.info(
    {
      snapshot: summary.id,
      ref: `${summary.host}/${summary.stamp}`,
      files: summary.files,
      dirs: summary.dirs,
      bytesTotal: summary.bytesTotal,
      bytesRead: summary.bytesRead,
      bytesUploaded: summary.bytesUploaded,
      durationMs: summary.durationMs,
      outcome: summary.files.skipped > 0 ? 'partial' : 'ok',
      written: summary.written,
    },
    summary.written ? 'backup finished' : 'nothing changed; no snapshot written',
  );
}

/** An error as logged: its code and message, with any password in a URL masked. */
export function describe(err: unknown): { code: string; message: string } {
  const message = redactUrlPassword(err instanceof Error ? err.message : String(err));
  return { code: isTwinvaultError(err) ? err.code : 'INTERNAL', message };
}
