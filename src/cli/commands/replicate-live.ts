import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configId } from '../../agent/agent-files.js';
import { createAgentLogger } from '../../agent/log.js';
import { openBackend } from '../../backend/registry.js';
import { systemClock } from '../../clock.js';
import { stateFolder } from '../../config/paths.js';
import { parseRepositoryUrl } from '../../config/repository-url.js';
import { ConfigError, UsageError } from '../../errors.js';
import { LagWatch } from '../../notify/lag-watch.js';
import { DEFAULT_PASS_SCHEDULE, LiveReplication } from '../../replicate/live/live-replication.js';
import { consumeQueue } from '../../replicate/live/sqs.js';
import { checkWebhookToken, startWebhook } from '../../replicate/live/webhook.js';
import { PassRecords } from '../../replicate/pass-record.js';
import { ReplicaLag } from '../../replicate/replica-lag.js';
import { replicaTargets, sourceSettings } from '../../replicate/targets.js';
import { readRepoConfig } from '../../repository/repo-config.js';
import { hostOf, loadCliConfig } from '../context.js';
import type { GlobalOptions } from '../output.js';
import type { ReplicateFlags } from './replicate.js';

export const ENV_TOKEN = 'TWINVAULT_REPLICATE_TOKEN';

/** `twinvault replicate --listen/--sqs`: runs until SIGINT/SIGTERM. */
export async function runLive(global: GlobalOptions, flags: ReplicateFlags): Promise<void> {
  if (flags.dryRun) throw new UsageError('--dry-run does not go with live mode (--listen, --sqs)');
  const config = await loadCliConfig(global);
  const targets = replicaTargets(config, flags.to);
  const settings = sourceSettings(config, flags.from);
  const location = parseRepositoryUrl(settings.url);
  if (location.kind !== 's3') {
    throw new UsageError(
      `live mode needs a repository in S3 (events name a bucket); ${settings.url} is not one`,
      {
        hint: 'run "twinvault replicate" on a schedule instead',
      },
    );
  }
  const listen = flags.listen === undefined ? undefined : parseListen(flags.listen);
  const token = listen ? await readToken(flags.tokenFile) : undefined;
  const log = createAgentLogger({
    file: '-',
    settings: config.agent.log,
    console: process.stdout,
    ...(global.quiet ? { quiet: true } : {}),
  });
  const source = await openBackend(settings);
  const repository = await readRepoConfig(source);
  const lag = new ReplicaLag(systemClock);
  const alerts = await LagWatch.start({
    settings: config.notifications,
    lag,
    replicas: targets.map((target) => target.url),
    host: hostOf(config),
    log,
    clock: systemClock,
    // Per set of replicas: two replicators of one repository to different replicas keep apart.
    file: join(
      stateFolder(),
      'replication',
      `${repository.id}-${configId(targets.map((t) => t.url).join(' '))}.alerts.json`,
    ),
  });
  const live = new LiveReplication({
    lag,
    source,
    scope: { bucket: location.bucket, prefix: location.prefix },
    targets,
    clock: systemClock,
    log,
    records: new PassRecords(stateFolder(), repository.id),
    schedule: flags.schedule ?? DEFAULT_PASS_SCHEDULE,
  });
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let webhook: Awaited<ReturnType<typeof startWebhook>> | undefined;
  let queue: { client: { destroy(): void }; consuming: Promise<void> } | undefined;
  try {
    await live.start();
    const handle = (parsed: Parameters<LiveReplication['handle']>[0]) => live.handle(parsed);
    if (listen && token) {
      webhook = await startWebhook({ ...listen, token, handle, log });
      log.info({ address: webhook.address }, 'receiving S3 event notifications');
    }
    if (flags.sqs) {
      const { SQSClient } = await import('@aws-sdk/client-sqs');
      const client = new SQSClient(sqsClientConfig(flags.sqs));
      log.info({ queue: flags.sqs }, 'consuming S3 event notifications from SQS');
      const consuming = consumeQueue({
        queueUrl: flags.sqs,
        client,
        handle,
        log,
        clock: systemClock,
        signal: stopping.signal,
      });
      queue = { client, consuming };
    }
    await new Promise<void>((resolve) =>
      stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    log.info('stopping: finishing the copies under way');
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stopping.abort();
    // Stop taking events, let those being handled finish (and their SQS messages be deleted).
    await queue?.consuming.catch(() => {});
    await webhook?.close();
    await live.stop();
    await alerts.stop();
    queue?.client.destroy();
    await source.close();
  }
}

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new UsageError(`--listen ${JSON.stringify(value)} is not HOST:PORT (e.g. 127.0.0.1:9400)`);
  }
  return { host: match[1] ?? match[2]!, port };
}

async function readToken(file: string | undefined): Promise<string> {
  let token = process.env[ENV_TOKEN];
  if (file !== undefined) {
    try {
      token = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `cannot read the token file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  }
  token = token?.trim();
  if (token) checkWebhookToken(token); // too short to be safe
  if (!token || /\s/.test(token)) {
    throw new ConfigError(
      `--listen needs a token (one word) in ${ENV_TOKEN} or a file named by --token-file`,
      {
        hint: 'generate one with "openssl rand -hex 32" and give the same to the sender (MinIO: auth_token)',
      },
    );
  }
  return token;
}

/** Region from the queue URL (sqs.REGION.amazonaws.com); any other host is an SQS-compatible endpoint. */
export function sqsClientConfig(queueUrl: string): { region?: string; endpoint?: string } {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    throw new UsageError(
      `--sqs ${JSON.stringify(queueUrl)} is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)`,
    );
  }
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
  if (region) return { region };
  return {
    endpoint: url.origin,
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  };
}
