import { createHash } from 'node:crypto';
import type { BuildMiddleware, MetadataBearer, MiddlewareStack } from '@smithy/types';
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
export function checksumParams(
  data: Buffer,
  kind: 'sha256' | 'md5',
  knownSha256?: string,
): Record<string, string> {
  if (kind === 'md5') return { ContentMD5: createHash('md5').update(data).digest('base64') };
  const digest = knownSha256 ? Buffer.from(knownSha256, 'hex') : createHash('sha256').update(data).digest();
  return { ChecksumSHA256: digest.toString('base64') };
}

/**
 * Lets SigV4 reuse the body's SHA-256 instead of hashing it once more (it does so on plain-HTTP
 * endpoints, where the payload is signed): the signer takes a preset x-amz-content-sha256 as is.
 */
export function presetPayloadHash<I extends object, O extends MetadataBearer>(
  command: { middlewareStack: MiddlewareStack<I, O> },
  checksumBase64: string | undefined,
): void {
  if (checksumBase64 === undefined) return;
  const hex = Buffer.from(checksumBase64, 'base64').toString('hex');
  const middleware: BuildMiddleware<I, O> = (next) => (args) => {
    (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] = hex;
    return next(args);
  };
  command.middlewareStack.add(middleware, { step: 'build', name: 'twinvaultPresetPayloadHash' });
}
