import { createHash } from 'node:crypto';
import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { BuildMiddleware } from '@smithy/types';
import type { PutOptions } from '../backend.js';
import type { S3BackendOptions } from './options.js';

export function writeParams(
  options: S3BackendOptions,
  put: PutOptions,
  key?: string,
): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (options.objectLock && key !== undefined && isRetained(key)) {
    params.ObjectLockMode = options.objectLock.mode;
    params.ObjectLockRetainUntilDate = new Date(Date.now() + options.objectLock.days * 86_400_000);
  }
  if (put.contentType !== undefined) params.ContentType = put.contentType;
  if (put.metadata !== undefined) params.Metadata = { ...put.metadata };
  Object.assign(params, encryptionParams(options));
  // Only content: config, manifests and locks stay hot (see PutOptions.content).
  if (options.storageClass !== undefined && put.content) params.StorageClass = options.storageClass;
  return params;
}

/** Locks and replication state change and go away; everything else is kept as written. */
function isRetained(key: string): boolean {
  return (
    !key.startsWith('.twinvault/locks/') &&
    !key.startsWith('.twinvault/replication/') &&
    !key.startsWith('.twinvault/probe-')
  );
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
export function checksumParams(
  data: Buffer,
  kind: 'sha256' | 'md5',
  knownSha256?: string,
): Record<string, string> {
  if (kind === 'md5') return { ContentMD5: createHash('md5').update(data).digest('base64') };
  const digest = knownSha256 ? Buffer.from(knownSha256, 'hex') : createHash('sha256').update(data).digest();
  return { ChecksumSHA256: digest.toString('base64') };
}

/** The commands whose ChecksumSHA256 is that of exactly the bytes they send. */
const BODY_CHECKSUM_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);

/**
 * Lets SigV4 reuse the body's SHA-256 instead of hashing it once more (it does so on plain-HTTP
 * endpoints, where the payload is signed): the signer takes a preset x-amz-content-sha256 as is.
 * Added once to the client, not to each command, so that the client can cache its middleware
 * stack (cacheMiddleware) instead of assembling it for every request.
 */
export function presetPayloadHash(stack: S3Client['middlewareStack']): void {
  const middleware: BuildMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => (args) => {
    const checksum = (args.input as { ChecksumSHA256?: string }).ChecksumSHA256;
    if (checksum !== undefined && BODY_CHECKSUM_COMMANDS.has(context.commandName ?? '')) {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      headers['x-amz-content-sha256'] = Buffer.from(checksum, 'base64').toString('hex');
    }
    return next(args);
  };
  stack.add(middleware, { step: 'build', name: 'twinvaultPresetPayloadHash' });
}
