import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import { FaultyProxy } from '../../test/servers/faulty-proxy.js';
import type { S3ServerInfo } from '../../test/servers/global-setup.js';
import { type MinioServer, startMinio } from '../../test/servers/minio.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { kindOfKey } from '../repository/layout.js';
import { replicatePass } from './pass.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('replication between two buckets of one MinIO (server-side copies)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let sourceBucket: string;
  let replicaBucket: string;
  beforeAll(async () => {
    const a = await createTestBucket(minio!, 'repl-src');
    const b = await createTestBucket(minio!, 'repl-dst');
    sourceBucket = a.bucket;
    replicaBucket = b.bucket;
    cleanups.push(a.cleanup, b.cleanup);
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('copies with CopyObject (multipart above the threshold), restores exactly, and a second pass only lists', async () => {
    const source = new CountingBackend(testBackend(minio!, sourceBucket));
    const fixture = await replicationFixture(source);
    cleanups.push(fixture.cleanup);
    await fixture.write({ 'notes/a.txt': 'alpha', 'b c+d%.txt': 'awkward name', 'x/y/z.txt': 'deep' });
    // Above the copy threshold set below: copied in parts with UploadPartCopy.
    const big = Buffer.alloc(11 * 1024 * 1024 + 3);
    for (let i = 0; i < big.length; i += 1024) big[i] = i % 253;
    await writeFile(join(fixture.folder, 'big.bin'), big);
    await fixture.snapshot();
    await fixture.write({ 'notes/a.txt': 'alpha 2', 'new.txt': 'new' });
    await fixture.snapshot();

    const replica = new CountingBackend(
      testBackend(minio!, replicaBucket, {
        multipartCopyThreshold: 6 * 1024 * 1024,
        copyPartSize: 5 * 1024 * 1024,
      }),
    );
    const before = source.total('get');
    const first = await replicatePass({ source, destination: replica });
    expect(first.objects.failed).toBe(0);
    expect(first.manifests.copied).toBe(2);
    expect(replica.total('put')).toBe(1); // the pass's lock: every copy is server-side
    // The source is read only for its config and the manifests' references, never for content.
    expect(source.total('get') - before).toBeLessThanOrEqual(1 + 2 * 2);
    expect(await keysOf(replica)).toEqual(await keysOf(source));
    const bigKey = (await keysOf(source)).find((key) => key.endsWith('big.bin'))!;
    expect((await replica.head(bigKey)).metadata).toEqual((await source.head(bigKey)).metadata);
    expect(await fixture.expectSameRestores(replica)).toEqual({ snapshots: 2, allEqual: true });

    const sourceCalls = new CountingBackend(testBackend(minio!, sourceBucket));
    const replicaCalls = new CountingBackend(testBackend(minio!, replicaBucket));
    const second = await replicatePass({ source: sourceCalls, destination: replicaCalls });
    expect(second.objects.copied).toBe(0);
    // The multipart copy's ETag differs from the source's: one HEAD each side settles it by SHA-256.
    const calls = [...sourceCalls.snapshot(), ...replicaCalls.snapshot()].filter(
      (c) => !['list', 'check'].includes(c.operation) && !(c.operation === 'get' && c.count <= 1),
    );
    // Besides the pass's lock (written, then deleted) on the replica: two HEADs, nothing else.
    const byOperation = (op: string) =>
      calls.filter((c) => c.operation === op).reduce((sum, c) => sum + c.count, 0);
    expect(byOperation('head')).toBe(2);
    expect([byOperation('put'), byOperation('delete')]).toEqual([1, 1]);
    expect(calls.every((c) => ['head', 'put', 'delete'].includes(c.operation))).toBe(true);
  });
});

describe.skipIf(!minio)('replication to another MinIO server (streamed copies)', () => {
  let other: MinioServer;
  const cleanups: Array<() => Promise<void>> = [];
  let sourceBucket: string;
  let replicaBucket: string;
  beforeAll(async () => {
    other = await startMinio();
    const otherInfo: S3ServerInfo = other;
    const a = await createTestBucket(minio!, 'repl-x-src');
    const b = await createTestBucket(otherInfo, 'repl-x-dst');
    sourceBucket = a.bucket;
    replicaBucket = b.bucket;
    cleanups.push(a.cleanup, b.cleanup);
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await other?.stop();
  });

  it('streams each object through, keeping metadata; restores exactly from the replica; nothing twice', async () => {
    const source = testBackend(minio!, sourceBucket);
    const fixture = await replicationFixture(source);
    cleanups.push(fixture.cleanup);
    await fixture.write({ 'a.txt': 'alpha', 'b/c.txt': 'charlie' });
    const big = Buffer.alloc(9 * 1024 * 1024 + 1, 7);
    await writeFile(join(fixture.folder, 'big.bin'), big);
    await fixture.snapshot();

    const replica = new CountingBackend(
      testBackend(other, replicaBucket, { multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024 }),
    );
    const first = await replicatePass({ source, destination: replica });
    expect(first.objects.failed).toBe(0);
    expect(first.objects.copied).toBe(4); // three files and the manifest
    expect(await keysOf(replica)).toEqual(await keysOf(source));
    const key = (await keysOf(source)).find((k) => k.endsWith('/a.txt'))!;
    const [a, b] = await Promise.all([source.head(key), replica.head(key)]);
    expect(b.metadata).toEqual(a.metadata);
    expect(b.contentType).toBe(a.contentType);
    expect(await fixture.expectSameRestores(replica)).toEqual({ snapshots: 1, allEqual: true });

    const second = await replicatePass({ source, destination: replica });
    expect(second.objects.copied).toBe(0);
  });
});

describe.skipIf(!minio)('replication when the replica becomes unreachable mid-pass', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('stops with an error naming the replica and the cause, and the next pass copies only the rest', async () => {
    const a = await createTestBucket(minio!, 'repl-down-src');
    const b = await createTestBucket(minio!, 'repl-down-dst');
    cleanups.push(a.cleanup, b.cleanup);
    const proxy = await new FaultyProxy(minio!.endpoint).start();
    cleanups.push(() => proxy.stop());
    const source = testBackend(minio!, a.bucket);
    const fixture = await replicationFixture(source);
    cleanups.push(fixture.cleanup);
    await fixture.write(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}.txt`, `file ${i}`])));
    await fixture.snapshot();

    const viaProxy = testBackend(minio!, b.bucket, { endpoint: proxy.endpoint, maxAttempts: 2 });
    let copied = 0;
    const failed = await replicatePass({
      source,
      destination: viaProxy,
      concurrency: 1,
      onEvent: (event) => {
        if (event.type === 'copied' && ++copied === 5) proxy.down = true;
      },
    }).then(
      () => undefined,
      (err: Error & { hint?: string }) => err,
    );
    expect(failed?.message).toMatch(
      new RegExp(
        `^replication to s3://${b.bucket}/repo stopped after copying 5 object\\(s\\): cannot reach the S3 endpoint`,
      ),
    );
    expect(failed?.hint).toContain('the next pass goes on from where this one stopped');
    expect((await keysOf(testBackend(minio!, b.bucket))).filter((k) => kindOfKey(k) === 'manifest')).toEqual(
      [],
    );

    proxy.down = false;
    const counted = new CountingBackend(testBackend(minio!, b.bucket, { endpoint: proxy.endpoint }));
    const resumed = await replicatePass({ source, destination: counted });
    expect(resumed.objects.copied).toBe(12 + 1 - 5);
    expect(await fixture.expectSameRestores(testBackend(minio!, b.bucket))).toEqual({
      snapshots: 1,
      allEqual: true,
    });
  });
});
