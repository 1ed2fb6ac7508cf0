import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicationFixture } from '../../../test/replication-fixture.js';
import { adminClient, createTestBucket, s3Server, testBackend } from '../../../test/s3.js';
import { type MinioServer, startMinio } from '../../../test/servers/minio.js';
import { freePort } from '../../../test/servers/process.js';
import type { Backend } from '../../backend/backend.js';
import { systemClock } from '../../clock.js';
import { listSnapshots } from '../../repository/snapshots.js';
import { LiveReplication } from './live-replication.js';
import { consumeQueue } from './sqs.js';
import { startWebhook } from './webhook.js';

const minio = s3Server('minio');
const moto = s3Server('moto');
const TOKEN = 'test-token-3f9a-5e0c'; // 16 characters at least

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Live replication from `sourceBucket` (prefix "repo") to a replica bucket on the shared MinIO. */
async function startLive(source: Backend, sourceBucket: string, replicaBucket: string, log: Logger) {
  const url = `s3://${replicaBucket}/repo`;
  const live = new LiveReplication({
    source,
    scope: { bucket: sourceBucket, prefix: 'repo' },
    targets: [{ url, settings: { url }, deletes: { policy: 'keep' }, concurrency: 8, afterBackup: false }],
    clock: systemClock,
    log,
    open: async () => testBackend(minio!, replicaBucket),
  });
  await live.start();
  return live;
}

async function holds(backend: Backend, key: string): Promise<true | undefined> {
  try {
    await backend.head(key);
    return true;
  } catch {
    return undefined;
  }
}

describe.skipIf(!minio)('live replication from MinIO bucket notifications (webhook)', () => {
  let source: MinioServer;
  let queueDir: string;
  let port: number;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    port = await freePort();
    queueDir = await mkdtemp(join(tmpdir(), 'twinvault-minio-queue-'));
    // The source store sends its bucket notifications to the webhook this test starts.
    source = await startMinio({
      MINIO_NOTIFY_WEBHOOK_ENABLE_TV: 'on',
      MINIO_NOTIFY_WEBHOOK_ENDPOINT_TV: `http://127.0.0.1:${port}/events`,
      MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_TV: TOKEN,
      MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_TV: queueDir,
    });
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await source?.stop();
    await rm(queueDir, { recursive: true, force: true });
  });

  it('copies each new snapshot to a replica on another server within seconds, and ignores forged events', async () => {
    const sourceBucket = await createTestBucket(source, 'live-src');
    const replicaBucket = await createTestBucket(minio!, 'live-dst');
    cleanups.push(sourceBucket.cleanup, replicaBucket.cleanup);
    const sourceBackend = testBackend(source, sourceBucket.bucket);
    const fixture = await replicationFixture(sourceBackend);
    cleanups.push(fixture.cleanup);
    await fixture.write({ 'first.txt': 'before live mode started' });
    await fixture.snapshot();

    const { log, lines } = capturedLog();
    const live = await startLive(sourceBackend, sourceBucket.bucket, replicaBucket.bucket, log);
    const webhook = await startWebhook({
      host: '127.0.0.1',
      port,
      token: TOKEN,
      handle: (p) => live.handle(p),
      log,
    });
    cleanups.push(async () => {
      await webhook.close();
      await live.stop();
    });
    await adminClient(source).send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: sourceBucket.bucket,
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::TV:webhook', Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    const replica = testBackend(minio!, replicaBucket.bucket);
    // The full pass at start brings the first snapshot.
    const firstManifest = `.twinvault/snapshots/laptop/${(await listSnapshots(sourceBackend))[0]!.stamp}.json.gz`;
    await waitFor('the first snapshot in the replica', () => holds(replica, firstManifest));

    // Passes are hourly; only the events can bring this snapshot within the wait.
    await fixture.write({ 'second.txt': 'written while live', 'first.txt': 'changed' });
    const made = await fixture.snapshot();
    const manifest = `.twinvault/snapshots/laptop/${made.stamp}.json.gz`;
    await waitFor('the live-copied snapshot in the replica', () => holds(replica, manifest));
    expect(await fixture.expectSameRestores(replica)).toEqual({ snapshots: 2, allEqual: true });
    expect(lines.some((line) => line.msg === 'copied' && line.key === manifest)).toBe(true);

    // No token, a wrong token, and a forged event for a key outside the repository.
    const post = (auth: string | undefined, body: unknown) =>
      fetch(`http://127.0.0.1:${port}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify(body),
      });
    const forged = {
      Records: [
        {
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: sourceBucket.bucket }, object: { key: 'elsewhere/evil.txt', size: 1 } },
        },
        {
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: 'another-bucket' }, object: { key: 'repo/laptop/x.txt', size: 1 } },
        },
      ],
    };
    expect((await post(undefined, forged)).status).toBe(401);
    expect((await post('Bearer wrong', forged)).status).toBe(403);
    const accepted = await post(`Bearer ${TOKEN}`, forged);
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { result: { ignored: number; copied: number } }).result).toMatchObject(
      {
        ignored: 2,
        copied: 0,
      },
    );
    expect(
      lines.filter((line) => line.msg === 'ignored an event for an object outside the repository'),
    ).toHaveLength(2);

    // Events that can never be valid are answered 400, so MinIO's queue does not send them again.
    expect((await post(`Bearer ${TOKEN}`, { not: 'a notification' })).status).toBe(400);
    const invalidKey = await post(`Bearer ${TOKEN}`, {
      Records: [
        {
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: sourceBucket.bucket }, object: { key: 'repo/laptop//x.txt', size: 1 } },
        },
      ],
    });
    expect(invalidKey.status).toBe(400);
    expect(((await invalidKey.json()) as { error: string }).error).toContain('invalid object key');
    // A caller guessing tokens gets 10 log lines a minute (all its refusals counted), not one each.
    for (let i = 0; i < 15; i++) expect((await post('Bearer guess-guess-guess', forged)).status).toBe(403);
    expect(lines.filter((line) => String(line.msg).startsWith('refused a'))).toHaveLength(10);
  });
});

describe.skipIf(!minio || !moto)('live replication from an SQS queue (moto) of MinIO objects', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('copies what queued events name and deletes each message only once its objects are copied', async () => {
    const sourceBucket = await createTestBucket(minio!, 'sqs-src');
    const replicaBucket = await createTestBucket(minio!, 'sqs-dst');
    cleanups.push(sourceBucket.cleanup, replicaBucket.cleanup);
    const sourceBackend = testBackend(minio!, sourceBucket.bucket);
    const fixture = await replicationFixture(sourceBackend);
    cleanups.push(fixture.cleanup);
    const { log } = capturedLog();
    const live = await startLive(sourceBackend, sourceBucket.bucket, replicaBucket.bucket, log);
    await live.fullPass(); // the replica exists and is current; what follows comes by events only

    await fixture.write({ 'a.txt': 'queued' });
    const made = await fixture.snapshot();
    const manifestKey = `.twinvault/snapshots/laptop/${made.stamp}.json.gz`;

    const sqs = new SQSClient({
      endpoint: moto!.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: moto!.accessKeyId, secretAccessKey: moto!.secretAccessKey },
    });
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `tv-${Date.now()}`, Attributes: { VisibilityTimeout: '2' } }),
    );
    // Only the manifest's event: its objects must come along, before it.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: JSON.stringify({
          Records: [
            {
              eventName: 'ObjectCreated:Put',
              s3: {
                bucket: { name: sourceBucket.bucket },
                object: { key: encodeURIComponent(`repo/${manifestKey}`).replace(/%2F/g, '/'), size: 1 },
              },
            },
          ],
        }),
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'not json' }));
    const stop = new AbortController();
    const consuming = consumeQueue({
      queueUrl: QueueUrl!,
      client: sqs,
      handle: (p) => live.handle(p),
      log,
      clock: systemClock,
      signal: stop.signal,
      waitSeconds: 1,
    });
    const replica = testBackend(minio!, replicaBucket.bucket);
    await waitFor('the queued snapshot in the replica', () => holds(replica, manifestKey));
    const empty = await waitFor('an empty queue', async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return Attributes?.ApproximateNumberOfMessages === '0' &&
        Attributes?.ApproximateNumberOfMessagesNotVisible === '0'
        ? true
        : undefined;
    });
    expect(empty).toBe(true);
    stop.abort();
    await consuming;
    sqs.destroy();
    await live.stop();
    expect(await fixture.expectSameRestores(replica)).toEqual({ snapshots: 1, allEqual: true });
  });
});
