import { CommanderError } from 'commander';
import { isTwinvaultError } from '../errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { printError } from './output.js';
import { closeOwnFoldersToOthers } from './private-state.js';
import { buildProgram } from './program.js';

/** Runs the CLI and returns the exit code; every error becomes a code here and nowhere else. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await closeOwnFoldersToOthers();
    await program.parseAsync(argv, { from: 'user' });
    // A command may end in a non-error state worth its own code (a backup that skipped files).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version arrive as "errors" with exit code 0; every other one is a usage mistake.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const global = program.opts<{ json?: boolean; verbose?: boolean }>();
    printError(err, { json: global.json ?? false, verbose: global.verbose ?? false });
    return isTwinvaultError(err) ? exitCodeFor(err.code) : EXIT.failure;
  }
}
