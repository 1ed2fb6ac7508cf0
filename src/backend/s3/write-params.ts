import { createHash } from 'node:crypto';
import type { PutOptions } from '../backend.js';
import type { S3BackendOptions } from './options.js';

export function writeParams(options: S3BackendOptions, put: PutOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (put.contentType !== undefined) params.ContentType = put.contentType;
  if (put.metadata !== undefined) params.Metadata = { ...put.metadata };
  Object.assign(params, encryptionParams(options));
  if (options.storageClass !== undefined) params.StorageClass = options.storageClass;
  return params;
}

export function encryptionParams(options: S3BackendOptions): Record<string, string> {
  const sse = options.serverSideEncryption;
  if (sse === undefined) return {};
  if (sse.type === 'SSE-S3') return { ServerSideEncryption: 'AES256' };
  return sse.kmsKeyId === undefined
    ? { ServerSideEncryption: 'aws:kms' }
    : { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sse.kmsKeyId };
}

/** The checksum header that lets the server reject bytes damaged on the way. */
export function checksumParams(data: Buffer, kind: 'sha256' | 'md5'): Record<string, string> {
  if (kind === 'md5') return { ContentMD5: createHash('md5').update(data).digest('base64') };
  return { ChecksumSHA256: createHash('sha256').update(data).digest('base64') };
}
