import { Argument, Command } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import type { GlobalOptions } from './output.js';
import { withRetrievalFlags } from './retrieval-options.js';

/** A command's action, loaded only when that command runs, so `--help` and others start fast. */
// biome-ignore lint/suspicious/noExplicitAny: each command declares the flags commander parsed for it
type Action = (global: GlobalOptions, options: any, args: string[]) => Promise<void>;
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

  program
    .command('init')
    .description(
      'create a repository at the configured location (checks it can write, read, list and delete there)',
    )
    .option('--create-bucket', 'create the S3 bucket first')
    .option('--allow-nonempty', 'create the repository even though other objects are there')
    .exitOverride()
    .action(lazy(() => import('./commands/init.js')));
  program
    .command('agent')
    .description(
      'keep the configured sources backed up: real-time changes, a full scan at start and on schedule',
    )
    .option('--metrics <[host:]port>', 'serve Prometheus metrics at /metrics (host 127.0.0.1 unless given)')
    .exitOverride()
    .action(lazy(() => import('./commands/agent.js')));
  program
    .command('service')
    .description('run the agent at login/boot: install, uninstall, or print the service definition')
    .addArgument(new Argument('<action>', 'what to do').choices(['install', 'uninstall', 'print']))
    .option('--kind <kind>', 'systemd-user (Linux default), systemd, cron, launchd (macOS), windows-task')
    .exitOverride()
    .action(lazy(() => import('./commands/service.js')));
  program
    .command('status')
    .description("what this config's agent last did and does next (works while it runs)")
    .exitOverride()
    .action(lazy(() => import('./commands/status.js')));
  program
    .command('backup')
    .description('back up folders (default: the sources in the config) as a new snapshot')
    .argument('[path...]', 'folders to back up instead of the configured sources')
    .option('--host <name>', "host name recorded in the snapshot (default: this machine's)")
    .option('--tag <tag>', 'tag the snapshot (repeatable)', collect, [])
    .option('--exclude <pattern>', 'leave out what matches (gitignore syntax; repeatable)', collect, [])
    .option(
      '--check-stored',
      'check now (not only once a day) that what is carried over is still stored; upload what is not',
    )
    .option(
      '--allow-empty',
      'back up a source that is empty (or no longer a mount point) although its last snapshot held files',
    )
    .exitOverride()
    .action(lazy(() => import('./commands/backup.js')));
  program
    .command('snapshots')
    .description('list snapshots')
    .option('--host <name>', 'only snapshots of this host')
    .option('--tag <tag>', 'only snapshots with this tag (repeatable: all must match)', collect, [])
    .option('--source <name>', 'only snapshots that hold this source')
    .exitOverride()
    .action(lazy(() => import('./commands/snapshots.js')));
  program
    .command('ls')
    .description('list the files in a snapshot')
    .argument('<snapshot>', 'latest, <host>/<stamp>, or a unique id prefix')
    .argument(
      '[subpath]',
      'only this folder or file, as <source>/<path> (with "latest": the latest that holds it)',
    )
    .option('--host <name>', 'with "latest": the latest of this host')
    .option('--source <name>', 'with "latest": the latest snapshot that holds this source')
    .exitOverride()
    .action(lazy(() => import('./commands/ls.js')));
  program
    .command('diff')
    .description('show what differs between two snapshots')
    .argument('<snapshot-a>', 'the earlier snapshot')
    .argument('<snapshot-b>', 'the later snapshot')
    .option('--host <name>', 'with "latest": the latest of this host')
    .option('--source <name>', 'with "latest": the latest snapshot that holds this source')
    .exitOverride()
    .action(lazy(() => import('./commands/diff.js')));
  program
    .command('restore')
    .description(
      'restore a snapshot, or part of it, into a folder; every file is checked against its SHA-256',
    )
    .argument('<snapshot>', 'latest, <host>/<stamp>, or a unique id prefix')
    .requiredOption('--target <dir>', 'folder to restore into (created if missing)')
    .option(
      '--include <subpath>',
      'restore only this folder or file, as <source>/<path> (repeatable; with "latest": the latest snapshot that holds them)',
      collect,
      [],
    )
    .option(
      '--overwrite <mode>',
      "existing files: never, keep-newer (replace those that differ, keep local files newer than the snapshot's: exit 3), if-changed (replace all that differ), always",
      'keep-newer',
    )
    .option('--keep-setid', 'restore set-uid and set-gid bits (by default they are cleared)')
    .option('--dry-run', 'only say what would be restored, replaced and kept')
    .option('--host <name>', 'with "latest": the latest of this host')
    .option('--source <name>', 'with "latest": the latest snapshot that holds this source')
    .option('--fallback', 'when the repository cannot be reached at all, restore from its replica')
    .exitOverride()
    .action(lazy(() => import('./commands/restore.js')));

  program
    .command('replicate')
    .description(
      'copy the repository to its replicas (content before manifests); live from S3 events with --listen or --sqs',
    )
    .option('--to <url>', 'replica to copy to (repeatable; default: the replicas in the config)', collect, [])
    .option('--from <url>', 'copy from this repository instead of the configured one')
    .option('--dry-run', 'only say what would be copied and deleted')
    .option('--listen <host:port>', 'live mode: receive S3 event notifications (webhook) here')
    .option('--sqs <queue-url>', 'live mode: consume S3 event notifications from this SQS queue')
    .option(
      '--token-file <file>',
      'with --listen: file holding the token callers must send (env: TWINVAULT_REPLICATE_TOKEN)',
    )
    .option(
      '--schedule <cron>',
      'live mode: full reconciling passes on this cron schedule (default "0 * * * *")',
    )
    .exitOverride()
    .action(lazy(() => import('./commands/replicate.js')));
  program
    .command('replicas')
    .description(
      'how far each replica is behind: objects, bytes, oldest unreplicated object, last pass and error',
    )
    .exitOverride()
    .action(lazy(() => import('./commands/replicas.js')));

  program
    .command('forget')
    .description('remove the snapshots a retention policy does not keep (manifests only; see prune)')
    .option('--keep-last <n>', 'keep the n newest snapshots')
    .option('--keep-hourly <n>', 'keep the newest snapshot of each of the n newest hours that have one')
    .option('--keep-daily <n>', 'the same per day')
    .option('--keep-weekly <n>', 'the same per ISO week')
    .option('--keep-monthly <n>', 'the same per month')
    .option('--keep-yearly <n>', 'the same per year')
    .option(
      '--keep-within <duration>',
      'keep snapshots newer than this before the newest one: 90s, 2m, 36h, 7d, 1y2mo',
    )
    .option('--keep-tag <tag>', 'keep snapshots with this tag (repeatable)', collect, [])
    .option('--host <name>', 'only snapshots of this host')
    .option('--source <name>', "only thin this source's groups (a snapshot other sources need stays)")
    .option(
      '--group-by <fields>',
      'apply the policy per group of: host, sources (one group per source), tags ("" for one group)',
      'host,sources',
    )
    .option('--dry-run', 'only say what would be kept (and why) and removed')
    .option('--prune', 'then delete the objects no remaining snapshot references')
    .exitOverride()
    .action(lazy(() => import('./commands/forget.js')));
  program
    .command('prune')
    .description(
      'delete the objects no snapshot references (what forgotten snapshots and crashed backups left)',
    )
    .option('--dry-run', 'only say what would be deleted')
    .exitOverride()
    .action(lazy(() => import('./commands/prune.js')));
  program
    .command('unlock')
    .description(
      'remove stale locks (expired, or of a process gone from this machine); never one of a process running here',
    )
    .option(
      '--remove-all',
      "also remove live locks, other machines' too: only once nothing of twinvault runs",
    )
    .exitOverride()
    .action(lazy(() => import('./commands/unlock.js')));
  program
    .command('verify')
    .description(
      'check the repository: config, manifests, every referenced object (and its bytes with --read-data)',
    )
    .option('--replicas', 'also check each configured replica, and how far behind it is')
    .option(
      '--read-data [subset]',
      'download and check SHA-256: all, a percentage ("10%"), or subset n/m ("2/7")',
    )
    .exitOverride()
    .action(lazy(() => import('./commands/verify.js')));
  program
    .command('repair')
    .description('copy missing or damaged objects and manifests from a healthy copy, each checked first')
    .requiredOption(
      '--from <url>',
      'the healthy copy: a replica (or the primary, to repair a replica with --repo)',
    )
    .option('--dry-run', 'only say what would be repaired')
    .option('--read-data [subset]', 'also find damaged bytes (as verify --read-data)')
    .exitOverride()
    .action(lazy(() => import('./commands/repair.js')));
  program
    .command('notify')
    .description('notification channels (docs/MONITORING.md)')
    .command('test')
    .description('send a test message through each configured channel, or the one named')
    .argument('[channel]', 'the name of one channel')
    .exitOverride()
    .action(lazy(() => import('./commands/notify-test.js')));
  program
    .command('stats')
    .description(
      'per host and in total: snapshots, files, logical and stored bytes, dedup savings, storage classes, monthly cost',
    )
    .exitOverride()
    .action(lazy(() => import('./commands/stats.js')));
  program
    .command('lifecycle')
    .description("S3 lifecycle rules for the repository's content: cheaper storage classes with age")
    .option('--print', 'show the rules')
    .option('--apply', 'write them to the bucket (other rules are kept)')
    .option('--ia-days <days>', 'move content to Standard-IA after this many days (0: never)', '30')
    .option(
      '--glacier-ir-days <days>',
      'move content to Glacier Instant Retrieval after this many days (0: never)',
      '90',
    )
    .option(
      '--glacier-days <days>',
      'move content to Glacier Flexible Retrieval (archive: restores need a retrieval) after this many days (0: never; 30 at the earliest)',
      '0',
    )
    .option(
      '--deep-archive-days <days>',
      'move content to Glacier Deep Archive (archive: restores need a retrieval) after this many days (0: never; 30 at the earliest)',
      '0',
    )
    .option('--abort-days <days>', 'abort incomplete multipart uploads after this many days', '7')
    .exitOverride()
    .action(lazy(() => import('./commands/lifecycle.js')));
  const replication = program
    .command('replication')
    .description("S3's own replication, for AWS users who prefer it to twinvault's replicator")
    .exitOverride();
  replication
    .command('native')
    .description('turn on S3 Same-/Cross-Region Replication of the repository to another bucket')
    .requiredOption('--to <url>', 'the replica bucket (same prefix as the repository)')
    .option('--print', 'only show what would be done')
    .option('--rtc', 'Replication Time Control: 99.99% of objects within 15 minutes (charged)')
    .option('--replicate-deletes', 'replicate delete markers too (default: the replica keeps everything)')
    .option('--role-name <name>', 'the IAM role S3 assumes (default: twinvault-replication-<bucket>)')
    .exitOverride()
    .action(lazy(() => import('./commands/replication-native.js')));
  program
    .command('deploy')
    .description('run the replicator on AWS Lambda, fired by S3 events and a schedule (CloudFormation)')
    .option('--print', 'only print the CloudFormation template')
    .option('--delete', 'delete the stack')
    .option('--stack <name>', 'stack name', 'twinvault-replicator')
    .option('--replica <url>', 'the replica (default: the first configured)')
    .option('--schedule <expression>', 'full passes, an EventBridge schedule expression', 'cron(0 * * * ? *)')
    .option('--alarm-email <address>', 'e-mail the alarms notify (a subscription to confirm)')
    .option('--log-retention-days <days>', 'how long the function logs are kept', '30')
    .option(
      '--lag-alarm <duration>',
      'alarm when new objects take longer than this to reach the replica',
      '1h',
    )
    .exitOverride()
    .action(lazy(() => import('./commands/deploy.js')));
  program
    .command('iam-policy')
    .description('print the least-privilege IAM policy (JSON) for a role: agent, replicator, restore, admin')
    .addArgument(new Argument('<role>', 'the role').choices(['agent', 'replicator', 'restore', 'admin']))
    .option(
      '--replica <url>',
      'replicator: the replica it writes (default: the first configured); restore: also read it',
    )
    .option(
      '--host <name>',
      "agent: the host it backs up as (default: the config's host, else this machine's)",
    )
    .exitOverride()
    .action(lazy(() => import('./commands/iam-policy.js')));

  // Archived objects (Glacier, Deep Archive) that a restore or a read-data check needs.
  for (const name of ['restore', 'verify'])
    withRetrievalFlags(program.commands.find((c) => c.name() === name)!);
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
