import { existsSync, readFileSync } from 'node:fs';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { adminClient, createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import type { Backend } from '../backend/backend.js';
import { manifestKey } from '../repository/layout.js';
import { handler, type LambdaContext } from './replicate-handler.js';

const minio = s3Server('minio');
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/lambda/${name}.json`, import.meta.url), 'utf8');
const BUNDLE = new URL('../../dist/lambda/replicate.mjs', import.meta.url).pathname;

/** A real AWS example event with its bucket and key replaced (keys are URL-encoded in events). */
function eventFor(name: string, bucket: string, key: string): unknown {
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/');
  return JSON.parse(fixture(name).replaceAll('example-bucket', bucket).replaceAll('test%2Fkey', encoded));
}

function sqsBatch(bodies: string[]): unknown {
  return {
    Records: bodies.map((body, i) => ({
      ...JSON.parse(fixture('sqs-record')),
      messageId: `message-${i}`,
      body,
    })),
  };
}

const ample: LambdaContext = { getRemainingTimeInMillis: () => 900_000, awsRequestId: 'test' };

interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [field: string]: unknown;
}

/** console.log, with which aws-embedded-metrics' Lambda sink writes each record; silenced in each test. */
let consoleLog: MockInstance<typeof console.log>;

/** The Embedded Metric Format records the handler wrote (one JSON line each) since the last call. */
function emfRecords(): EmfRecord[] {
  const lines = consoleLog.mock.calls.map(([line]) => String(line));
  consoleLog.mockClear();
  return lines.flatMap((line) => {
    try {
      const record = JSON.parse(line) as EmfRecord;
      return record._aws ? [record] : [];
    } catch {
      return [];
    }
  });
}

/** Every metric and its unit: CloudWatch keeps a metric's unit, and alarms compare in it. */
const UNITS = {
  ObjectsCopied: 'Count',
  ObjectsFailed: 'Count',
  BytesCopied: 'Bytes',
  ReplicationLagSeconds: 'Seconds',
  ObjectsPending: 'Count',
  Problems: 'Count',
  PassComplete: 'Count',
  DeletedObjects: 'Count',
  PassDurationSeconds: 'Seconds',
} as const;
const LIVE = ['ObjectsCopied', 'ObjectsFailed', 'BytesCopied', 'ReplicationLagSeconds'] as const;
const PASS = [
  'ObjectsCopied',
  'BytesCopied',
  'ObjectsPending',
  'Problems',
  'PassComplete',
  'DeletedObjects',
  'PassDurationSeconds',
] as const;

/**
 * The one record written, checked for its namespace, its one dimension, and exactly the metrics
 * `names` with their units and a number each; returns the record's fields.
 */
function onlyRecord(
  records: EmfRecord[],
  replica: string,
  names: ReadonlyArray<keyof typeof UNITS>,
): Record<string, unknown> {
  expect(records).toHaveLength(1);
  const record = records[0]!;
  expect(record._aws.CloudWatchMetrics).toHaveLength(1);
  const block = record._aws.CloudWatchMetrics[0]!;
  expect(block).toMatchObject({ Namespace: 'twinvault', Dimensions: [['Replica']] });
  expect(record.Replica).toBe(replica);
  expect(Object.fromEntries(block.Metrics.map((m) => [m.Name, m.Unit]))).toEqual(
    Object.fromEntries(names.map((name) => [name, UNITS[name]])),
  );
  for (const name of names) expect(typeof record[name]).toBe('number');
  return record;
}

/** An event sent `secondsAgo` before now (the fixtures' times are years old). */
function sentAgo(event: unknown, secondsAgo: number): unknown {
  const time = new Date(Date.now() - secondsAgo * 1000).toISOString();
  const record = event as { time?: string; Records?: Array<{ eventTime?: string }> };
  if (record.Records) for (const r of record.Records) r.eventTime = time;
  else record.time = time;
  return event;
}

describe.skipIf(!minio)('the replicator Lambda handler, against two MinIO buckets', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let source: Backend;
  let replica: Backend;
  let sourceBucket: string;
  let replicaBucket: string;
  /** The Replica dimension: the destination as a URL (DESTINATION_PREFIX defaults to SOURCE_PREFIX). */
  let replicaName: string;
  let repo: Awaited<ReturnType<typeof replicationFixture>>;

  beforeEach(async () => {
    consoleLog = vi.spyOn(console, 'log').mockImplementation(() => {});
    const a = await createTestBucket(minio!, 'lambda-src');
    const b = await createTestBucket(minio!, 'lambda-dst');
    cleanups.push(a.cleanup, b.cleanup);
    sourceBucket = a.bucket;
    replicaBucket = b.bucket;
    replicaName = `s3://${b.bucket}/repo`;
    source = testBackend(minio!, a.bucket);
    replica = testBackend(minio!, b.bucket);
    repo = await replicationFixture(source);
    cleanups.push(repo.cleanup);
    Object.assign(process.env, {
      SOURCE_BUCKET: a.bucket,
      SOURCE_PREFIX: 'repo',
      DESTINATION_BUCKET: b.bucket,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: minio!.endpoint,
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      LOG_LEVEL: 'silent',
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('an S3 notification for a manifest copies the snapshot, its objects first', async () => {
    await repo.write({ 'a.txt': 'alpha', 'b/c d.txt': 'space in the name' });
    const made = await repo.snapshot();
    const result = await handler(
      eventFor('s3-put', sourceBucket, `repo/${manifestKey('laptop', made.stamp)}`),
      ample,
    );
    expect(result).toMatchObject({ copied: 1 });
    expect(await keysOf(replica)).toEqual(await keysOf(source));
    expect(await repo.expectSameRestores(replica)).toEqual({ snapshots: 1, allEqual: true });
  });

  it('an EventBridge "Object Created" event copies the object and reports it as EMF metrics', async () => {
    await repo.write({ 'a b+c.txt': 'alpha' });
    const made = await repo.snapshot();
    const key = `laptop/${made.stamp}/Documents/a b+c.txt`;
    const event = sentAgo(eventFor('eventbridge-object-created', sourceBucket, `repo/${key}`), 90);
    expect(await handler(event, ample)).toMatchObject({ copied: 1 });
    expect((await replica.head(key)).metadata).toEqual((await source.head(key)).metadata);

    const record = onlyRecord(emfRecords(), replicaName, LIVE);
    expect(record).toMatchObject({
      ObjectsCopied: 1,
      ObjectsFailed: 0,
      BytesCopied: 5,
      requestId: 'test',
      trigger: 'events',
    });
    // From the event's time to the end of the copy.
    expect(record.ReplicationLagSeconds).toBeGreaterThanOrEqual(90);
    expect(record.ReplicationLagSeconds).toBeLessThan(90 + 60);
  });

  it("a notification for a snapshot counts every object it copies, the snapshot's objects too", async () => {
    await repo.write({ 'a.txt': 'alpha', 'b.txt': 'beta' });
    const made = await repo.snapshot();
    const manifest = `repo/${manifestKey('laptop', made.stamp)}`;
    expect(await handler(sentAgo(eventFor('s3-put', sourceBucket, manifest), 5), ample)).toMatchObject({
      copied: 1,
    });
    const record = onlyRecord(emfRecords(), replicaName, LIVE);
    expect(record).toMatchObject({ ObjectsCopied: 3, ObjectsFailed: 0 });
    const manifestBytes = (await source.head(manifestKey('laptop', made.stamp))).size;
    expect(record.BytesCopied).toBe(5 + 4 + manifestBytes);
  });

  it('a copy that fails still reports its figures, ObjectsFailed among them, before the handler throws', async () => {
    await repo.write({ 'a.txt': 'alpha', 'b.txt': 'beta' });
    const made = await repo.snapshot();
    const keyOf = (name: string) => `repo/laptop/${made.stamp}/Documents/${name}`;
    // A first event opens the replica (kept by the warm container); then the replica goes away.
    await handler(eventFor('eventbridge-object-created', sourceBucket, keyOf('a.txt')), ample);
    emfRecords();
    const admin = adminClient(minio!);
    try {
      for await (const page of paginateListObjectsV2({ client: admin }, { Bucket: replicaBucket })) {
        const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (objects.length > 0)
          await admin.send(new DeleteObjectsCommand({ Bucket: replicaBucket, Delete: { Objects: objects } }));
      }
      await admin.send(new DeleteBucketCommand({ Bucket: replicaBucket }));

      const event = sentAgo(eventFor('eventbridge-object-created', sourceBucket, keyOf('b.txt')), 30);
      await expect(handler(event, ample)).rejects.toMatchObject({ code: 'BUCKET_NOT_FOUND' });
      const record = onlyRecord(emfRecords(), replicaName, LIVE);
      expect(record).toMatchObject({
        ObjectsCopied: 0,
        ObjectsFailed: 1,
        BytesCopied: 0,
      });
      expect(record.ReplicationLagSeconds).toBeGreaterThanOrEqual(30);
    } finally {
      await admin.send(new CreateBucketCommand({ Bucket: replicaBucket }));
      admin.destroy();
    }
  });

  it('a snapshot held back (its source lost an object) counts as failed, the event as handled', async () => {
    await repo.write({ 'a.txt': 'alpha', 'b.txt': 'beta' });
    const made = await repo.snapshot();
    await source.delete(`laptop/${made.stamp}/Documents/b.txt`);
    const manifest = `repo/${manifestKey('laptop', made.stamp)}`;
    expect(await handler(eventFor('s3-put', sourceBucket, manifest), ample)).toMatchObject({ held: 1 });
    expect(onlyRecord(emfRecords(), replicaName, LIVE)).toMatchObject({ ObjectsFailed: 1, ObjectsCopied: 1 });
  });

  it('an SQS batch reports only the failed message, so only it is retried', async () => {
    await repo.write({ 'a.txt': 'alpha' });
    const made = await repo.snapshot();
    const key = `repo/${manifestKey('laptop', made.stamp)}`;
    const result = await handler(
      sqsBatch([JSON.stringify(eventFor('s3-put', sourceBucket, key)), 'not a notification']),
      ample,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-1' }] });
    expect(await keysOf(replica)).toEqual(await keysOf(source));
    // One record for the batch; the message that is no notification names no object.
    expect(onlyRecord(emfRecords(), replicaName, LIVE)).toMatchObject({ ObjectsCopied: 2, ObjectsFailed: 0 });
  });

  it('a scheduled pass stops before the time limit and the next one goes on from there', async () => {
    await repo.write(
      Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [`f${String(i).padStart(2, '0')}.txt`, `file ${i}`]),
      ),
    );
    const made = await repo.snapshot();
    let calls = 0;
    // Plenty of time for ten copies, then less than the 30 s reserve.
    const short: LambdaContext = { getRemainingTimeInMillis: () => (++calls <= 10 ? 60_000 : 10_000) };
    process.env.CONCURRENCY = '1';
    const first = (await handler(JSON.parse(fixture('scheduled')), short)) as Record<string, unknown>;
    expect(first).toMatchObject({ complete: false, manifests: 0 });
    expect(first.copied).toBeGreaterThan(0);
    // Manifests wait for a complete pass.
    expect(await keysOf(replica)).not.toContain(manifestKey('laptop', made.stamp));
    const stopped = onlyRecord(emfRecords(), replicaName, PASS);
    expect(stopped).toMatchObject({
      trigger: 'schedule',
      ObjectsCopied: first.copied,
      BytesCopied: first.bytes,
      ObjectsPending: 0,
      Problems: 0,
      PassComplete: 0,
      DeletedObjects: 0,
    });
    expect(stopped.PassDurationSeconds).toBeGreaterThan(0);

    const second = (await handler(JSON.parse(fixture('scheduled')), ample)) as Record<string, unknown>;
    delete process.env.CONCURRENCY;
    expect(second).toMatchObject({ complete: true, resumedAfter: first.resumeAfter });
    expect(onlyRecord(emfRecords(), replicaName, PASS)).toMatchObject({
      ObjectsCopied: second.copied,
      BytesCopied: second.bytes,
      ObjectsPending: 0,
      PassComplete: 1,
    });
    // Nothing the first invocation copied is copied again: 30 files and the manifest in all.
    expect((first.copied as number) + (second.copied as number)).toBe(31);
    expect(await keysOf(replica)).toEqual(await keysOf(source));
    expect(await repo.expectSameRestores(replica)).toEqual({ snapshots: 1, allEqual: true });
  });

  it.skipIf(!existsSync(BUNDLE) && process.env.CI !== 'true')(
    'the built bundle (dist/lambda/replicate.mjs) runs a full pass',
    async () => {
      await repo.write({ 'a.txt': 'alpha' });
      await repo.snapshot();
      const bundle = (await import(BUNDLE)) as { handler: typeof handler };
      expect(await bundle.handler(JSON.parse(fixture('scheduled')), ample)).toMatchObject({
        complete: true,
        copied: 2,
      });
      expect(await keysOf(replica)).toEqual(await keysOf(source));
      // The metrics library works bundled too.
      expect(onlyRecord(emfRecords(), replicaName, PASS)).toMatchObject({
        ObjectsCopied: 2,
        PassComplete: 1,
      });
    },
  );
});
