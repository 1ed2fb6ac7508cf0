/**
 * The replication benchmark (issue 5), against MinIO on loopback, in one run:
 *   - full first pass of D1 and D2 (built CLI, `replicate --to`, server-side copies) against a
 *     baseline of plain CopyObject calls at the same concurrency, over the same objects;
 *   - a no-change pass of each (CLI, median of 3), and its requests by operation (in-process);
 *   - live mode: from a client's PUT of an object to the moment it is copied into the replica,
 *     with MinIO's real bucket notifications (webhook) — 200 objects, one every 50 ms.
 * Writes bench/results/replicate-<date>.json.   npm run build && npm run bench:replicate
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { S3Backend } from '../src/backend/s3/s3-backend.js';
import { CountingBackend } from '../src/backend/wrap/counting.js';
import { systemClock } from '../src/clock.js';
import { LiveReplication } from '../src/replicate/live/live-replication.js';
import { startWebhook } from '../src/replicate/live/webhook.js';
import { replicatePass } from '../src/replicate/pass.js';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';
import { freePort } from '../test/servers/process.js';
import { buildDataSet } from './datasets.js';
import { writeResults } from './results-file.js';
import { cliEnv, runCli } from './run-cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: 'D1,D2' },
    data: { type: 'string', default: '/var/tmp/twinvault-bench' },
    concurrency: { type: 'string', default: '32' },
    events: { type: 'string', default: '200' },
    // MinIO keeps events in this folder while the receiver is down, but then sends them only
    // every 3 s (its queue replay interval): off by default here, so lag measures delivery.
    'queue-dir': { type: 'boolean', default: false },
  },
});
const CONCURRENCY = Number(values.concurrency);
const TOKEN = 'bench-token';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const port = await freePort();
const queueDir = await mkdtemp(join(tmpdir(), 'twinvault-bench-queue-'));
const minio = await startMinio({
  MINIO_SCANNER_SPEED: 'slowest',
  MINIO_NOTIFY_WEBHOOK_ENABLE_TV: 'on',
  MINIO_NOTIFY_WEBHOOK_ENDPOINT_TV: `http://127.0.0.1:${port}/`,
  MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_TV: TOKEN,
  ...(values['queue-dir'] ? { MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_TV: queueDir } : {}),
});
const credentials = { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey };
const client = adminClient({ endpoint: minio.endpoint, ...credentials });
const backendOf = (bucket: string, prefix: string) =>
  new S3Backend({ bucket, prefix, endpoint: minio.endpoint, region: 'us-east-1', credentials, env: {} });
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  concurrency: CONCURRENCY,
  sets: {},
};
const home = await mkdtemp(join(tmpdir(), 'twinvault-bench-replicate-'));
try {
  for (const bucket of ['tv-src', 'tv-dst', 'baseline-dst', 'live-src', 'live-dst']) {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  for (const name of values.sets.split(',').filter(Boolean) as Array<'D1' | 'D2'>) {
    console.log(`\n== ${name}`);
    const set = await buildDataSet(name, values.data);
    const env = cliEnv(minio, home, `state-${name}`, `s3://tv-src/${name}`);
    await runCli(['init'], env);
    await runCli(['backup', set.root, '--host', 'bench'], env);
    const r: Record<string, number> = { files: set.files.length, megabytes: set.bytes / 1e6 };

    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client }, { Bucket: 'tv-src', Prefix: `${name}/` })) {
      for (const object of page.Contents ?? []) keys.push(object.Key!);
    }
    r.objects = keys.length;
    let next = 0;
    const baselineStarted = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          await client.send(
            new CopyObjectCommand({
              Bucket: 'baseline-dst',
              Key: key,
              CopySource: `tv-src/${encodeURI(key)}`,
            }),
          );
        }
      }),
    );
    r.baselineCopySeconds = Number(process.hrtime.bigint() - baselineStarted) / 1e9;
    console.log(`baseline CopyObject of ${keys.length} objects: ${r.baselineCopySeconds.toFixed(1)} s`);

    const first = await runCli(['replicate', '--to', `s3://tv-dst/${name}`], env);
    r.firstPassSeconds = first.seconds;
    r.firstPassPeakRssMiB = first.rssKiB / 1024;
    r.firstPassVsBaselineRate = r.baselineCopySeconds / first.seconds;
    console.log(
      `twinvault first pass: ${first.seconds.toFixed(1)} s (${(100 * r.firstPassVsBaselineRate).toFixed(0)}% of the baseline rate), peak RSS ${r.firstPassPeakRssMiB.toFixed(0)} MiB`,
    );

    const runs: number[] = [];
    for (let i = 0; i < 3; i++)
      runs.push((await runCli(['replicate', '--to', `s3://tv-dst/${name}`], env)).seconds);
    r.noChangeSeconds = median(runs);
    r.noChangeSecondsMin = Math.min(...runs);
    r.noChangeSecondsMax = Math.max(...runs);
    const source = new CountingBackend(backendOf('tv-src', name));
    const destination = new CountingBackend(backendOf('tv-dst', name));
    const summary = await replicatePass({ source, destination });
    for (const [side, counted] of [
      ['source', source],
      ['replica', destination],
    ] as const) {
      for (const { operation, count } of counted.snapshot())
        r[`noChange_${side}_${operation}`] = (r[`noChange_${side}_${operation}`] ?? 0) + count;
    }
    console.log(
      `no-change pass: ${runs.map((x) => x.toFixed(2)).join(', ')} s; copied ${summary.objects.copied}; requests ${JSON.stringify([...source.snapshot(), ...destination.snapshot()])}`,
    );
    await source.close();
    await destination.close();
    (results.sets as Record<string, unknown>)[name] = r;
  }

  console.log('\n== live mode lag');
  const log = pino({ level: 'warn' }, new Writable({ write: (_c, _e, done) => done() }));
  const liveSource = backendOf('live-src', 'repo');
  const liveEnv = cliEnv(minio, home, 'state-live', 's3://live-src/repo');
  await runCli(['init'], liveEnv);
  const live = new LiveReplication({
    source: liveSource,
    scope: { bucket: 'live-src', prefix: 'repo' },
    targets: [
      {
        url: 's3://live-dst/repo',
        settings: { url: 's3://live-dst/repo' },
        deletes: { policy: 'keep' },
        concurrency: 16,
        afterBackup: false,
      },
    ],
    clock: systemClock,
    log,
    open: async () => backendOf('live-dst', 'repo'),
  });
  await live.start();
  await live.fullPass();
  const copiedAt = new Map<string, number>();
  const receivedAt = new Map<string, number>();
  const webhook = await startWebhook({
    host: '127.0.0.1',
    port,
    token: TOKEN,
    log,
    handle: async (parsed) => {
      for (const event of parsed.events)
        if (!receivedAt.has(event.key)) receivedAt.set(event.key, performance.now());
      const result = await live.handle(parsed);
      const now = performance.now();
      for (const event of parsed.events) if (!copiedAt.has(event.key)) copiedAt.set(event.key, now);
      return result;
    },
  });
  await client.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'live-src',
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: 'arn:minio:sqs::TV:webhook', Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
  const putAt = new Map<string, number>();
  const count = Number(values.events);
  for (let i = 0; i < count; i++) {
    const key = `repo/bench/20260101_000000/live/file-${i}.bin`;
    await client.send(
      new PutObjectCommand({ Bucket: 'live-src', Key: key, Body: Buffer.alloc(4096, i % 256) }),
    );
    putAt.set(key, performance.now());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const deadline = Date.now() + 30_000;
  while (copiedAt.size < count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const lags = [...putAt].flatMap(([key, at]) =>
    copiedAt.has(key) ? [(copiedAt.get(key)! - at) / 1000] : [],
  );
  const copying = [...copiedAt].flatMap(([key, at]) =>
    receivedAt.has(key) ? [(at - receivedAt.get(key)!) / 1000] : [],
  );
  results.live = {
    minioQueueDir: values['queue-dir'],
    objects: count,
    copyP50Seconds: percentile(copying, 0.5),
    copyP95Seconds: percentile(copying, 0.95),
    copied: lags.length,
    lagP50Seconds: percentile(lags, 0.5),
    lagP95Seconds: percentile(lags, 0.95),
    lagMaxSeconds: Math.max(...lags),
  };
  console.log(`live: ${JSON.stringify(results.live)}`);
  await webhook.close();
  await live.stop();
  await liveSource.close();
} finally {
  client.destroy();
  await minio.stop();
  await rm(home, { recursive: true, force: true });
  await rm(queueDir, { recursive: true, force: true });
}

await writeResults('replicate', results as { date: string });
