import { redactUrlPassword } from '../config/redact.js';
import { isTwinvaultError, type TwinvaultError } from '../errors.js';

export interface GlobalOptions {
  repo?: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** Writes a result: pretty JSON with --json, else the text lines (unless --quiet). */
export function printResult(options: GlobalOptions, json: unknown, lines: () => string[]): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  if (!options.quiet) process.stdout.write(`${lines().join('\n')}\n`);
}

/** Writes an error to stderr: "twinvault: message" plus a hint, or one JSON object with --json. */
export function printError(err: unknown, options: Pick<GlobalOptions, 'json' | 'verbose'>): void {
  const known: TwinvaultError | undefined = isTwinvaultError(err) ? err : undefined;
  const message = redactUrlPassword(known?.message ?? (err instanceof Error ? err.message : String(err)));
  if (options.json) {
    const body = {
      error: { code: known?.code ?? 'INTERNAL', message, ...(known?.hint ? { hint: known.hint } : {}) },
    };
    process.stderr.write(`${JSON.stringify(body)}\n`);
    return;
  }
  process.stderr.write(`twinvault: ${message}\n`);
  if (known?.hint) process.stderr.write(`  hint: ${known.hint}\n`);
  if (!known)
    process.stderr.write('  this is a bug in twinvault; please report it with the command you ran\n');
  if ((options.verbose || !known) && err instanceof Error && err.stack) {
    const stack = redactUrlPassword(err.stack);
    process.stderr.write(`${options.verbose ? stack : stack.split('\n').slice(0, 4).join('\n')}\n`);
  }
}
