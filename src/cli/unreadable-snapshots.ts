import type { SnapshotRef } from '../repository/snapshots.js';
import { escapeForTerminal as shown } from './escape.js';
import { EXIT } from './exit-codes.js';
import type { GlobalOptions } from './output.js';

/**
 * Snapshots whose manifest cannot be read are named on stderr (stdout stays the list, or valid
 * JSON), and the exit code is 3: what was printed leaves them out.
 */
export function warnUnreadable(
  global: GlobalOptions,
  damaged: Array<{ ref: SnapshotRef; error: Error }>,
  leftOut: string,
): void {
  if (damaged.length === 0) return;
  for (const { ref, error } of damaged) {
    process.stderr.write(
      `warning: snapshot ${ref.id.slice(0, 8)} (${shown(ref.host)}/${ref.stamp}) is ${leftOut}: ${shown(error.message)}\n`,
    );
  }
  if (!global.quiet) {
    process.stderr.write(
      `  hint: "twinvault verify" checks every manifest; "twinvault repair --from REPLICA" restores damaged ones from a replica\n`,
    );
  }
  process.exitCode = EXIT.partial;
}
