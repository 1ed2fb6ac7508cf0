import {
  AccessDeniedError,
  AlreadyExistsError,
  BucketNotFoundError,
  ConfigError,
  isTwinvaultError,
  NotFoundError,
  StorageError,
  StorageUnreachableError,
  type TwinvaultError,
} from '../../errors.js';
import { archivedObjectError } from '../archive.js';

export interface S3ErrorContext {
  operation: string;
  bucket: string;
  key?: string;
  /** s3://bucket/prefix, for messages. */
  location: string;
  endpoint: string;
  credentialSource: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);
const ACCESS_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'Forbidden',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Maps whatever the AWS SDK threw into a TwinvaultError that names bucket, key and cause. */
export function mapS3Error(err: unknown, context: S3ErrorContext): TwinvaultError {
  if (isTwinvaultError(err)) return err;
  const shape = (err ?? {}) as SdkErrorShape;
  const name = shape.name ?? shape.Code ?? 'Error';
  const status = shape.$metadata?.httpStatusCode;
  const options = { cause: err };
  const what = context.key === undefined ? context.location : `"${context.key}" in ${context.location}`;

  // HEAD answers carry no error code, so a bare 404 means the bucket unless a key was asked for.
  if (name === 'NoSuchBucket' || (status === 404 && context.key === undefined))
    return bucketMissing(context, err);
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return new NotFoundError(`no object ${what}`, options);
  }
  if (name === 'PreconditionFailed' || status === 412) {
    return new AlreadyExistsError(`object ${what} already exists`, options);
  }
  if (name === 'ConditionalRequestConflict' || status === 409) {
    return new StorageError(`a concurrent write to ${what} conflicted with this one (${name})`, {
      ...options,
      retryable: true,
    });
  }
  if (name === 'RequestTimeTooSkewed') {
    return new StorageError(
      `the store at ${context.endpoint} rejected the request: this machine's clock is off`,
      {
        ...options,
        hint: 'synchronise the system clock (NTP) and try again',
      },
    );
  }
  // GET or copy of an archived object (moto names the copy's ObjectNotInActiveTierError).
  if (name === 'InvalidObjectState' || name === 'ObjectNotInActiveTierError') {
    return archivedObjectError(what, undefined, err);
  }
  if (ACCESS_CODES.has(name) || status === 403) {
    return new AccessDeniedError(
      `access denied to bucket "${context.bucket}" at ${context.endpoint} (${context.operation}${context.key === undefined ? '' : ` "${context.key}"`}) using credentials from ${context.credentialSource}: ${describeAccessCode(name)}`,
      { ...options, hint: 'check the credentials and that their policy allows this action on the bucket' },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new ConfigError(
      `no AWS credentials found for ${context.location}: ${shape.message ?? ''}`.trim(),
      {
        ...options,
        hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or credentials in the repository config',
      },
    );
  }
  if (/region is missing/i.test(shape.message ?? '')) {
    return new ConfigError(`no AWS region is set for ${context.location}`, {
      ...options,
      hint: 'set "region" in the repository config, or AWS_REGION',
    });
  }
  const networkCode = networkCodeOf(err);
  if (networkCode !== undefined) {
    return new StorageUnreachableError(
      `cannot reach the S3 endpoint ${context.endpoint} (${describeNetworkCode(networkCode)}) during ${context.operation} of ${what}`,
      { ...options, hint: 'check the endpoint URL, the network and that the store is running' },
    );
  }
  const fromStore = shape.$metadata !== undefined;
  const retryable =
    fromStore &&
    (status === undefined || status >= 500 || status === 429 || name === 'SlowDown' || name === 'BadDigest');
  const detail = shape.message && shape.message !== name ? `${name}: ${shape.message}` : name;
  return new StorageError(
    `S3 ${context.operation} of ${what} failed${status ? ` with HTTP ${status}` : ''}: ${detail}`,
    { ...options, retryable },
  );
}

function bucketMissing(context: S3ErrorContext, cause: unknown): BucketNotFoundError {
  return new BucketNotFoundError(`bucket "${context.bucket}" does not exist at ${context.endpoint}`, {
    cause,
    hint: `create it first (for example "aws s3 mb s3://${context.bucket}"), or check the bucket name and region`,
  });
}

function networkCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const { code, name } = current as { code?: string; name?: string };
    if (code && NETWORK_CODES.has(code)) return code;
    if (name === 'TimeoutError' || code === 'TimeoutError') return 'ETIMEDOUT';
    const errors = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) current = errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeNetworkCode(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return 'no answer within the request timeout';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return code;
  }
}

function describeAccessCode(name: string): string {
  switch (name) {
    case 'InvalidAccessKeyId':
      return 'the access key id is not known to the store';
    case 'SignatureDoesNotMatch':
      return 'the secret key does not match the access key id';
    case 'ExpiredToken':
      return 'the session token has expired';
    default:
      return 'the store refused the request';
  }
}
