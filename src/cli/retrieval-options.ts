import type { Command } from 'commander';

export const DEFAULT_DAYS = 7;

/** Adds --request-archived, --tier, --days and --wait (archived objects) to restore and verify. */
export function withRetrievalFlags(command: Command): Command {
  return command
    .option(
      '--request-archived',
      'ask S3 to make the archived (Glacier, Deep Archive) objects needed readable, and go on once they are',
    )
    .option('--tier <tier>', 'retrieval tier: Bulk (cheapest, default), Standard, Expedited (GLACIER only)')
    .option('--days <n>', `keep the restored copies this many days (default ${DEFAULT_DAYS})`)
    .option('--wait', 'wait until the archived objects needed are readable, instead of exiting with code 8');
}
