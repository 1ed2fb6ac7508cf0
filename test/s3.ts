import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import type { S3BackendOptions } from '../src/backend/s3/options.js';
import { S3Backend } from '../src/backend/s3/s3-backend.js';
import type { S3ServerInfo } from './servers/global-setup.js';

export type S3ServerName = 'minio' | 'moto';

/** The running test server, or null (its tests are then skipped; global setup said why). */
export function s3Server(name: S3ServerName): S3ServerInfo | null {
  return inject(name);
}

export function adminClient(server: S3ServerInfo): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
}

export function uniqueBucketName(label: string): string {
  return `tv-${label}-${randomBytes(4).toString('hex')}`.toLowerCase();
}

/** Creates a fresh bucket; the returned cleanup empties and removes it. */
export async function createTestBucket(server: S3ServerInfo, label: string) {
  const client = adminClient(server);
  const bucket = uniqueBucketName(label);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const cleanup = async () => {
    for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (objects.length > 0)
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  };
  return { bucket, cleanup };
}

/** Backend options for a test server, with the environment isolated from the developer's own AWS setup. */
export function testBackendOptions(
  server: S3ServerInfo,
  bucket: string,
  extra: Partial<S3BackendOptions> = {},
): S3BackendOptions {
  return {
    bucket,
    prefix: 'repo',
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    env: {},
    ...extra,
  };
}

export function testBackend(
  server: S3ServerInfo,
  bucket: string,
  extra: Partial<S3BackendOptions> = {},
): S3Backend {
  return new S3Backend(testBackendOptions(server, bucket, extra));
}

/** A test server's endpoint and keys as repository settings in a config file. */
export function connectionSettings(server: S3ServerInfo) {
  return {
    endpoint: server.endpoint,
    region: 'us-east-1',
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
  };
}
