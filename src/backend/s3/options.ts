import { GIB, MIB } from './part-size.js';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Everything the S3 backend needs, already resolved from config, environment and flags. */
export interface S3BackendOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing "/"; "" for the bucket root. */
  prefix: string;
  /** An S3-compatible endpoint URL; absent for AWS itself. */
  endpoint?: string;
  region?: string;
  profile?: string;
  credentials?: StaticCredentials;
  /** Defaults to on when a custom endpoint is set (MinIO and most compatible stores need it). */
  pathStyle?: boolean;
  /** The SDK's request checksum mode; 'when_required' for stores that reject its default checksums. */
  checksumMode?: 'when_supported' | 'when_required';
  serverSideEncryption?: { type: 'SSE-S3' } | { type: 'SSE-KMS'; kmsKeyId?: string };
  storageClass?: string;
  /** Object Lock retention given to every object written, but locks and replication state. */
  objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
  multipartThreshold?: number;
  partSize?: number;
  multipartCopyThreshold?: number;
  copyPartSize?: number;
  /** Parts of one object uploaded or copied at once. */
  partConcurrency?: number;
  /** A request with no response for this long fails (and is retried). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Attempts per request, including the first; retries back off exponentially with jitter. */
  maxAttempts?: number;
  /** The environment the credential chain reads; for describing the credential source. */
  env?: NodeJS.ProcessEnv;
}

export const S3_DEFAULTS = {
  multipartThreshold: 16 * MIB,
  partSize: 16 * MIB,
  multipartCopyThreshold: 5 * GIB,
  copyPartSize: 512 * MIB,
  partConcurrency: 4,
  requestTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  maxAttempts: 5,
} as const;

/** The endpoint from options, else from the standard AWS environment variables. */
export function resolveEndpoint(options: S3BackendOptions): string | undefined {
  const env = options.env ?? process.env;
  if (options.endpoint) return options.endpoint;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}
