import { type Logger, pino } from 'pino';
import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import { systemClock } from '../clock.js';
import { inspectDestination } from '../replicate/destination.js';
import { ObjectSync } from '../replicate/live/object-sync.js';
import { parseNotification } from '../replicate/live/s3-events.js';
import { replicatePass } from '../replicate/pass.js';
import { readPassCursor, writePassCursor } from '../replicate/pass-cursor.js';
import { CONFIG_KEY } from '../repository/layout.js';
import { readRepoConfig } from '../repository/repo-config.js';
import { LiveMetrics, PassMetrics, publishingMetrics } from './emf-metrics.js';
import { type LambdaSettings, lambdaSettings } from './lambda-config.js';

/** The part of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

interface SqsRecord {
  messageId: string;
  body: string;
  eventSource?: string;
}

/**
 * The replicator as an AWS Lambda function (bundled into dist/lambda/replicate.mjs): a thin
 * adapter over the replication the CLI runs. It takes S3 event notifications, EventBridge
 * "Object Created" events, SQS batches of either (reporting only the failed messages), and
 * EventBridge scheduled events, which run a full pass that stops before the time limit and goes
 * on from there at the next invocation. Logs are JSON lines for CloudWatch Logs Insights; each
 * invocation's figures are one more line, in CloudWatch's Embedded Metric Format (emf-metrics.ts).
 */
export async function handler(event: unknown, context: LambdaContext): Promise<unknown> {
  const log = pino(
    {
      level: process.env.LOG_LEVEL ?? 'info',
      base: { requestId: context.awsRequestId },
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous: a Lambda is frozen once the handler returns; nothing may wait in a buffer.
    pino.destination({ dest: 1, sync: true }),
  );
  const settings = lambdaSettings(process.env);
  const record = event as { Records?: SqsRecord[]; source?: string; 'detail-type'?: string };
  // Each invocation's figures leave as one EMF line on stdout, also when it fails.
  if (record.source === 'aws.events' && record['detail-type'] === 'Scheduled Event') {
    const metrics = new PassMetrics(systemClock);
    const properties = { requestId: context.awsRequestId, trigger: 'schedule' };
    return publishingMetrics(settings.metrics, metrics, properties, log, () =>
      scheduledPass(settings, context, log, metrics),
    );
  }
  const metrics = new LiveMetrics(systemClock);
  const properties = { requestId: context.awsRequestId, trigger: 'events' };
  return publishingMetrics(settings.metrics, metrics, properties, log, () =>
    objectEvents(record, settings, log, metrics),
  );
}

/** A full pass that stops before the time limit and goes on from there at the next invocation. */
async function scheduledPass(
  settings: LambdaSettings,
  context: LambdaContext,
  log: Logger,
  metrics: PassMetrics,
): Promise<unknown> {
  const { source, destination } = await backends(settings);
  const startAfter = await readPassCursor(destination);
  const summary = await replicatePass({
    source,
    destination,
    deletes: settings.deletes,
    concurrency: settings.concurrency,
    clock: systemClock,
    ...(startAfter === undefined ? {} : { startAfter }),
    shouldStop: () => context.getRemainingTimeInMillis() < settings.reserveMs,
    onEvent: (e) => {
      metrics.onEvent(e);
      if (e.type === 'copied')
        log.info(
          { key: e.key, action: 'copy', outcome: 'copied', bytes: e.bytes, durationMs: Math.round(e.ms) },
          'copied',
        );
      else if (e.type === 'failed' || e.type === 'held')
        log.warn(
          { key: e.key, action: 'copy', outcome: e.type },
          e.type === 'failed' ? e.error.message : 'snapshot held back',
        );
      else
        log.info({ key: e.key, action: e.type === 'deleted' ? 'delete' : 'copy', outcome: e.type }, e.type);
    },
  });
  metrics.finished(summary);
  await writePassCursor(destination, summary.resumeAfter, systemClock.now());
  const result = {
    complete: summary.resumeAfter === undefined,
    resumedAfter: startAfter,
    ...(summary.resumeAfter === undefined ? {} : { resumeAfter: summary.resumeAfter }),
    copied: summary.objects.copied,
    bytes: summary.objects.copiedBytes,
    manifests: summary.manifests.copied,
    deleted: summary.deletes.deleted,
    problems: summary.problems.length,
  };
  log.info(
    { action: 'pass', outcome: result.complete ? 'complete' : 'stopped', ...result },
    'scheduled pass',
  );
  return result;
}

/** S3 notifications, EventBridge "Object Created" events, or an SQS batch of either. */
async function objectEvents(
  record: { Records?: SqsRecord[] },
  settings: LambdaSettings,
  log: Logger,
  metrics: LiveMetrics,
): Promise<unknown> {
  const { source, destination } = await backends(settings);
  const sync = new ObjectSync(source, settings.scope, [destination], log, settings.concurrency);
  if (Array.isArray(record.Records) && record.Records[0]?.eventSource === 'aws:sqs') {
    // Each message on its own: only the failed ones go back to the queue.
    const failures: Array<{ itemIdentifier: string }> = [];
    await Promise.all(
      record.Records.map(async (message) => {
        try {
          const { events } = parseNotification(JSON.parse(message.body));
          metrics.received(events);
          await sync.handle(events, metrics);
        } catch (err) {
          log.error(
            { messageId: message.messageId, action: 'copy', outcome: 'failed', err: (err as Error).message },
            'message failed',
          );
          failures.push({ itemIdentifier: message.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  }

  const parsed = parseNotification(record);
  metrics.received(parsed.events);
  if (parsed.events.length === 0) {
    log.warn({ ignored: parsed.ignored }, 'event holds no object to copy');
    return { copied: 0 };
  }
  // Failing here makes Lambda retry the event (and then send it to the dead-letter queue).
  return sync.handle(parsed.events, metrics);
}

let opened: { key: string; source: Backend; destination: Backend } | undefined;

/**
 * The two backends, kept across invocations of a warm container; the first time, the destination
 * is checked to be this repository's replica (or made one, when empty).
 */
async function backends(settings: LambdaSettings): Promise<{ source: Backend; destination: Backend }> {
  const key = JSON.stringify([settings.source, settings.destination]);
  if (opened?.key === key) return opened;
  const source = await openBackend(settings.source);
  const destination = await openBackend(settings.destination);
  const state = await inspectDestination(source, await readRepoConfig(source), destination);
  if (state.kind === 'empty') await destination.copy(CONFIG_KEY, CONFIG_KEY, { from: source });
  opened = { key, source, destination };
  return opened;
}
