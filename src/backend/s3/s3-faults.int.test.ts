import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestBucket, s3Server, testBackend, uniqueBucketName } from '../../../test/s3.js';
import { FaultyProxy, startBlackhole } from '../../../test/servers/faulty-proxy.js';
import { freePort } from '../../../test/servers/process.js';
import { bodyFromBuffer, readAll } from '../body.js';
import { openBackend } from '../registry.js';
import { MIB } from './part-size.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('S3 backend against MinIO: faults and bad input', () => {
  let bucket: string;
  let cleanup: () => Promise<void>;
  let proxy: FaultyProxy;

  beforeAll(async () => {
    ({ bucket, cleanup } = await createTestBucket(minio!, 'faults'));
    proxy = await new FaultyProxy(minio!.endpoint).start();
  });
  afterAll(async () => {
    await proxy?.stop();
    await cleanup?.();
  });

  it('reports an unreachable endpoint within the timeout, naming it', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const backend = testBackend(minio!, bucket, { endpoint, maxAttempts: 2 });
    const started = Date.now();
    const error = await backend.check().catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'STORAGE_UNREACHABLE', isRetryable: true });
    expect((error as Error).message).toContain(endpoint);
    expect((error as Error).message).toContain('connection refused');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('gives up on a store that accepts connections but never answers', async () => {
    const blackhole = await startBlackhole();
    try {
      const backend = testBackend(minio!, bucket, {
        endpoint: blackhole.endpoint,
        requestTimeoutMs: 300,
        connectTimeoutMs: 300,
        maxAttempts: 2,
      });
      const started = Date.now();
      const error = await backend.get('any/key').catch((err: unknown) => err);
      expect(error).toMatchObject({ code: 'STORAGE_UNREACHABLE' });
      expect((error as Error).message).toContain('no answer within the request timeout');
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await blackhole.stop();
    }
  });

  it('says "access denied" with the bucket and credential source, never the secret', async () => {
    const secret = 'definitely-the-wrong-secret';
    const backend = testBackend(minio!, bucket, {
      credentials: { accessKeyId: 'twinvault-test', secretAccessKey: secret },
    });
    const error = (await backend.put('x', bodyFromBuffer('x')).catch((err: unknown) => err)) as Error;
    expect(error).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(error.message).toContain(`bucket "${bucket}"`);
    expect(error.message).toContain('the access key in the configuration (…test)');
    expect(error.message).toContain('secret key does not match');
    expect(JSON.stringify({ message: error.message, hint: (error as { hint?: string }).hint })).not.toContain(
      secret,
    );
  });

  it('names environment credentials as the source when they are used', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'unknown-key-id');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'unknown-secret');
    try {
      const backend = await openBackend({
        url: `s3://${bucket}/p`,
        endpoint: minio!.endpoint,
        region: 'us-east-1',
      });
      const error = (await backend.check().catch((err: unknown) => err)) as Error;
      expect(error).toMatchObject({ code: 'ACCESS_DENIED' });
      expect(error.message).toContain('environment variables AWS_ACCESS_KEY_ID');
      expect(error.message).not.toContain('unknown-secret');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('works from the standard AWS environment variables alone, path-style on a custom endpoint', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', minio!.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', minio!.secretAccessKey);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', minio!.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_PROFILE', '');
    try {
      const backend = await openBackend({ url: `s3://${bucket}/from-env` });
      await backend.check();
      await backend.put('hello', bodyFromBuffer('from env'));
      expect((await readAll(await backend.get('hello'))).toString()).toBe('from env');
      await backend.close();
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('says a missing bucket does not exist and how to create it', async () => {
    const missing = uniqueBucketName('missing');
    const backend = testBackend(minio!, missing);
    for (const attempt of [
      () => backend.check(),
      () => backend.put('k', bodyFromBuffer('v')),
      async () => {
        for await (const _ of backend.list()) break;
      },
    ]) {
      const error = (await attempt().catch((err: unknown) => err)) as Error & { hint?: string };
      expect(error).toMatchObject({ code: 'BUCKET_NOT_FOUND' });
      expect(error.message).toContain(`bucket "${missing}" does not exist`);
      expect(error.hint).toContain(`s3://${missing}`);
    }
  });

  it('retries throttling and 5xx answers with backoff, then succeeds', async () => {
    const backend = testBackend(minio!, bucket, { endpoint: proxy.endpoint, maxAttempts: 4 });
    proxy.failNext(2, 503, 'SlowDown');
    const before = proxy.seen.length;
    await backend.put('retry/ok', bodyFromBuffer('made it'));
    expect(proxy.seen.length - before).toBe(3);
    expect((await readAll(await backend.get('retry/ok'))).toString()).toBe('made it');
  });

  it('fails with the status once retries are used up, as a retryable error', async () => {
    const backend = testBackend(minio!, bucket, { endpoint: proxy.endpoint, maxAttempts: 2 });
    proxy.failNext(2, 500, 'InternalError');
    const error = (await backend.head('retry/ok').catch((err: unknown) => err)) as Error;
    expect(error).toMatchObject({ code: 'STORAGE_FAILED', isRetryable: true });
    expect(error.message).toContain('HTTP 500');
  });

  it('lets the server reject an upload damaged on the way (checksum), storing nothing', async () => {
    const backend = testBackend(minio!, bucket, { endpoint: proxy.endpoint, maxAttempts: 1 });
    proxy.corruptNextUploads(1);
    await expect(backend.put('damaged/object', bodyFromBuffer(randomBytes(4096)))).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
    });
    await expect(backend.head('damaged/object')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('sends a SHA-256 checksum by default and Content-MD5 in when_required mode', async () => {
    for (const [mode, header] of [
      ['when_supported', 'x-amz-checksum-sha256'],
      ['when_required', 'content-md5'],
    ] as const) {
      const backend = testBackend(minio!, bucket, {
        endpoint: proxy.endpoint,
        checksumMode: mode,
        multipartThreshold: 5 * MIB,
        partSize: 5 * MIB,
      });
      const before = proxy.seen.length;
      const data = randomBytes(11 * MIB);
      await backend.put(`checksum/${mode}`, bodyFromBuffer(data));
      const uploads = proxy.seen.slice(before).filter((r) => r.method === 'PUT');
      expect(uploads).toHaveLength(3);
      expect(uploads.map((r) => [mode, r.headers[header] !== undefined])).toEqual(
        uploads.map(() => [mode, true]),
      );
      expect((await readAll(await backend.get(`checksum/${mode}`))).equals(data)).toBe(true);
    }
  });

  it('lets SigV4 reuse a known SHA-256 instead of hashing the body again', async () => {
    const backend = testBackend(minio!, bucket, { endpoint: proxy.endpoint });
    const data = randomBytes(1000);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const before = proxy.seen.length;
    await backend.put('known-hash/object', bodyFromBuffer(data), { sha256 });
    const put = proxy.seen.slice(before).find((r) => r.method === 'PUT');
    expect(put?.headers['x-amz-content-sha256']).toBe(sha256);
    expect((await readAll(await backend.get('known-hash/object'))).equals(data)).toBe(true);
    // Each request carries its own hash, though the client caches its middleware.
    const other = randomBytes(1000);
    const otherSha256 = createHash('sha256').update(other).digest('hex');
    const beforeOther = proxy.seen.length;
    await backend.put('known-hash/other', bodyFromBuffer(other), { sha256: otherSha256 });
    const otherPut = proxy.seen.slice(beforeOther).find((r) => r.method === 'PUT');
    expect(otherPut?.headers['x-amz-content-sha256']).toBe(otherSha256);
    // A wrong hash is caught by the store, not stored.
    await expect(
      backend.put('known-hash/wrong', bodyFromBuffer(data), {
        sha256: createHash('sha256').update('other').digest('hex'),
      }),
    ).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    await expect(backend.head('known-hash/wrong')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('uploads large objects in parts and copies them with UploadPartCopy', async () => {
    const backend = testBackend(minio!, bucket, {
      endpoint: proxy.endpoint,
      multipartThreshold: 5 * MIB,
      partSize: 5 * MIB,
      multipartCopyThreshold: 5 * MIB,
      copyPartSize: 5 * MIB,
    });
    const before = proxy.seen.length;
    await backend.put('parts/source', bodyFromBuffer(randomBytes(12 * MIB)));
    expect((await backend.head('parts/source')).etag).toMatch(/-3"?$/);
    await backend.copy('parts/source', 'parts/copy');
    const partCopies = proxy.seen
      .slice(before)
      .filter((r) => r.headers['x-amz-copy-source-range'] !== undefined);
    expect(partCopies).toHaveLength(3);
    expect((await backend.head('parts/copy')).size).toBe(12 * MIB);
  });

  it('refuses a create-only multipart upload over an existing object', async () => {
    const backend = testBackend(minio!, bucket, { multipartThreshold: 5 * MIB, partSize: 5 * MIB });
    await backend.put('create-only/big', bodyFromBuffer(randomBytes(6 * MIB)), { createOnly: true });
    await expect(
      backend.put('create-only/big', bodyFromBuffer(randomBytes(6 * MIB)), { createOnly: true }),
    ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('aborts a failed multipart upload, leaving no parts behind', async () => {
    const backend = testBackend(minio!, bucket, { multipartThreshold: 5 * MIB, partSize: 5 * MIB });
    const data = randomBytes(11 * MIB);
    // The body ends early: the upload must fail and be aborted.
    const body = { size: data.length + 100, open: () => bodyFromBuffer(data).open() };
    await expect(backend.put('aborted/object', body)).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(backend.head('aborted/object')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    const { adminClient } = await import('../../../test/s3.js');
    const uploads = await adminClient(minio!).send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });
});
