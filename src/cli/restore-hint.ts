import type { GlobalOptions } from './output.js';

export interface RestoreCommandFlags {
  target: string;
  include: string[];
  overwrite: string;
  dryRun?: boolean;
  host?: string;
  source?: string;
  keepSetid?: boolean;
}

/**
 * The restore command the user ran, pointed at another repository (a replica): the hint when the
 * repository cannot be reached. Every flag given is kept (--host above all: without it "latest"
 * may name another machine's snapshot), and each word is quoted for a POSIX shell.
 */
export function restoreCommandFor(
  repository: string,
  global: GlobalOptions,
  flags: RestoreCommandFlags,
  args: string[],
  defaultOverwrite: string,
): string {
  const words = ['twinvault'];
  if (global.config !== undefined) words.push('--config', global.config);
  words.push('--repo', repository);
  if (global.json) words.push('--json');
  if (global.quiet) words.push('--quiet');
  if (global.verbose) words.push('--verbose');
  words.push('restore', ...args, '--target', flags.target);
  for (const include of flags.include) words.push('--include', include);
  if (flags.overwrite !== defaultOverwrite) words.push('--overwrite', flags.overwrite);
  if (flags.host !== undefined) words.push('--host', flags.host);
  if (flags.source !== undefined) words.push('--source', flags.source);
  if (flags.dryRun) words.push('--dry-run');
  if (flags.keepSetid) words.push('--keep-setid');
  return words.map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_/.,:@%+=-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
