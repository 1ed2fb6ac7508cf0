import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { adminClient, createTestBucket, s3Server, testBackend } from '../../../test/s3.js';
import { MINIO_KMS_KEY_ID } from '../../../test/servers/minio.js';
import { bodyFromBuffer, readAll } from '../body.js';
import { openBackend } from '../registry.js';
import { MIB } from './part-size.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('S3 settings against MinIO', () => {
  let bucket: string;
  let cleanup: () => Promise<void>;
  let home: string;

  beforeAll(async () => {
    ({ bucket, cleanup } = await createTestBucket(minio!, 'settings'));
    home = await mkdtemp(join(tmpdir(), 'twinvault-aws-home-'));
  });
  afterAll(async () => {
    await cleanup?.();
    await rm(home, { recursive: true, force: true });
  });

  const headRaw = (key: string) =>
    adminClient(minio!).send(new HeadObjectCommand({ Bucket: bucket, Key: `repo/${key}` }));

  it('encrypts new objects with SSE-S3 and SSE-KMS, in single and multipart uploads and copies', async () => {
    const sseS3 = testBackend(minio!, bucket, { serverSideEncryption: { type: 'SSE-S3' } });
    await sseS3.put('sse/s3', bodyFromBuffer('secret-ish'));
    expect((await headRaw('sse/s3')).ServerSideEncryption).toBe('AES256');

    const sseKms = testBackend(minio!, bucket, {
      serverSideEncryption: { type: 'SSE-KMS', kmsKeyId: MINIO_KMS_KEY_ID },
      multipartThreshold: 5 * MIB,
      partSize: 5 * MIB,
      multipartCopyThreshold: 5 * MIB,
      copyPartSize: 5 * MIB,
    });
    const data = Buffer.alloc(6 * MIB, 1);
    await sseKms.put('sse/kms-large', bodyFromBuffer(data));
    const head = await headRaw('sse/kms-large');
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toContain(MINIO_KMS_KEY_ID);
    await sseKms.copy('sse/kms-large', 'sse/kms-copy');
    expect((await headRaw('sse/kms-copy')).ServerSideEncryption).toBe('aws:kms');
    expect((await readAll(await sseKms.get('sse/kms-copy'))).equals(data)).toBe(true);
  });

  it('writes content in the configured storage class, anything else in the default one', async () => {
    const backend = testBackend(minio!, bucket, { storageClass: 'REDUCED_REDUNDANCY' });
    await backend.put('class/rr', bodyFromBuffer('x'), { content: true });
    expect((await headRaw('class/rr')).StorageClass).toBe('REDUCED_REDUNDANCY');
    await backend.put('class/hot', bodyFromBuffer('x'));
    expect((await headRaw('class/hot')).StorageClass ?? 'STANDARD').toBe('STANDARD');
    await backend.copy('class/hot', 'class/rr-copy', { content: true });
    expect((await headRaw('class/rr-copy')).StorageClass).toBe('REDUCED_REDUNDANCY');
  });

  it('uses a named profile from the shared credentials file, from config or AWS_PROFILE', async () => {
    const credentials = join(home, 'credentials');
    await writeFile(
      credentials,
      `[tvtest]\naws_access_key_id = ${minio!.accessKeyId}\naws_secret_access_key = ${minio!.secretAccessKey}\n`,
    );
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', credentials);
    vi.stubEnv('AWS_CONFIG_FILE', join(home, 'config-absent'));
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    try {
      const fromConfig = await openBackend({
        url: `s3://${bucket}/profile`,
        endpoint: minio!.endpoint,
        profile: 'tvtest',
      });
      await fromConfig.put('a', bodyFromBuffer('via config profile'));
      expect((await readAll(await fromConfig.get('a'))).toString()).toBe('via config profile');

      vi.stubEnv('AWS_PROFILE', 'tvtest');
      const fromEnv = await openBackend({ url: `s3://${bucket}/profile`, endpoint: minio!.endpoint });
      expect((await readAll(await fromEnv.get('a'))).toString()).toBe('via config profile');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('exits 6 from `config check --connect` with wrong credentials, naming bucket and source', async () => {
    const file = join(home, 'twinvault.json');
    await writeFile(
      file,
      JSON.stringify({
        repository: {
          url: `s3://${bucket}/cli`,
          endpoint: minio!.endpoint,
          accessKeyId: minio!.accessKeyId,
          secretAccessKey: 'not-the-secret',
          maxAttempts: 1,
        },
      }),
    );
    const result = await runCli(['--config', file, 'config', 'check', '--connect'], { cwd: home, home });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain(`access denied to bucket "${bucket}"`);
    expect(result.stderr).toContain('the access key in the configuration');
    expect(result.stderr).not.toContain('not-the-secret');
    const ok = await runCli(['--config', file, '--json', 'config', 'check'], { cwd: home, home });
    expect(ok.code).toBe(0);
  });

  it('exits 6 with "does not exist" for a missing bucket', async () => {
    const result = await runCli(['--repo', 's3://tv-no-such-bucket-here/x', 'config', 'check', '--connect'], {
      cwd: tmpdir(),
      home,
      env: {
        AWS_ACCESS_KEY_ID: minio!.accessKeyId,
        AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
        AWS_ENDPOINT_URL_S3: minio!.endpoint,
      },
    });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('bucket "tv-no-such-bucket-here" does not exist');
    expect(result.stderr).toContain('hint: create it first');
  });
});
