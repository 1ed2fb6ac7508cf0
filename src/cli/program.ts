import { createRequire } from 'node:module';
import { Command } from 'commander';
import type { GlobalOptions } from './output.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

/** A command's action, loaded only when that command runs, so `--help` and others start fast. */
type Action = (global: GlobalOptions, options: Record<string, unknown>, args: string[]) => Promise<void>;
const lazy = (load: () => Promise<{ run: Action }>) =>
  async function (this: Command, ...received: unknown[]) {
    const command = received.at(-1) as Command;
    const { run } = await load();
    await run(command.optsWithGlobals() as GlobalOptions, command.opts(), command.args);
  };

export function buildProgram(): Command {
  const program = new Command('twinvault')
    .description('Backs up folders as browsable snapshots in S3 (or a folder), with an independent replica.')
    .version(pkg.version, '-V, --version', 'print the version')
    .option('--repo <url>', 'repository: s3://bucket/prefix or file:///folder (env: TWINVAULT_REPOSITORY)')
    .option('--config <file>', 'config file (default: ./twinvault.json, then the user config folder)')
    .option('--json', 'print machine-readable JSON')
    .option('-q, --quiet', 'print only errors')
    .option('-v, --verbose', 'print more detail, including stack traces of errors')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const config = program
    .command('config')
    .description('inspect and validate the configuration')
    .exitOverride();
  config
    .command('check')
    .description('validate the configuration and print it as resolved, with secrets redacted')
    .option('--connect', 'also check that the repository location can be reached')
    .exitOverride()
    .action(lazy(() => import('./commands/config-check.js')));
  config
    .command('schema')
    .description('print the JSON Schema of the config file (also in schema/config.schema.json)')
    .exitOverride()
    .action(lazy(() => import('./commands/config-schema.js')));

  return program;
}
