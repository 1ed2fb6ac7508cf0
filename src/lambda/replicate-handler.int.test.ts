import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
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

describe.skipIf(!minio)('the replicator Lambda handler, against two MinIO buckets', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let source: Backend;
  let replica: Backend;
  let sourceBucket: string;
  let repo: Awaited<ReturnType<typeof replicationFixture>>;

  beforeEach(async () => {
    const a = await createTestBucket(minio!, 'lambda-src');
    const b = await createTestBucket(minio!, 'lambda-dst');
    cleanups.push(a.cleanup, b.cleanup);
    sourceBucket = a.bucket;
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

  it('an EventBridge "Object Created" event copies the object', async () => {
    await repo.write({ 'a b+c.txt': 'alpha' });
    const made = await repo.snapshot();
    const key = `laptop/${made.stamp}/Documents/a b+c.txt`;
    expect(
      await handler(eventFor('eventbridge-object-created', sourceBucket, `repo/${key}`), ample),
    ).toMatchObject({ copied: 1 });
    expect((await replica.head(key)).metadata).toEqual((await source.head(key)).metadata);
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

    const second = (await handler(JSON.parse(fixture('scheduled')), ample)) as Record<string, unknown>;
    delete process.env.CONCURRENCY;
    expect(second).toMatchObject({ complete: true, resumedAfter: first.resumeAfter });
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
    },
  );
});
