import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { reportFailedAttempts } from './attempt-report.js';
import { resolveEndpoint, S3_DEFAULTS, type S3BackendOptions } from './options.js';
import { quirksFor } from './providers.js';
import { presetPayloadHash } from './write-params.js';

/**
 * Builds the SDK client. Retries are the SDK's standard strategy (exponential backoff with full
 * jitter on throttling, 5xx and network errors), each one reported (attempt-report.ts) so a caller
 * can say so; each request has a connect and an idle timeout, so an unreachable store fails
 * within bounded time instead of hanging.
 */
export function createS3Client(options: S3BackendOptions): S3Client {
  const endpoint = resolveEndpoint(options);
  const quirks = quirksFor(endpoint);
  const env = options.env ?? process.env;
  const region =
    options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? 'us-east-1' : undefined);
  const checksumMode =
    options.checksumMode === 'when_required' || quirks.uploadChecksum === 'md5'
      ? 'WHEN_REQUIRED'
      : 'WHEN_SUPPORTED';
  const config: S3ClientConfig = {
    forcePathStyle: options.pathStyle ?? (endpoint !== undefined && quirks.pathStyle),
    followRegionRedirects: true,
    maxAttempts: options.maxAttempts ?? S3_DEFAULTS.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: checksumMode,
    // Callers verify what they read against the SHA-256 in manifests; a second hash by the SDK
    // (over a wrapping stream) cost restores a third of their speed.
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Assembling the middleware stack anew for every request was a tenth of a small upload's cost.
    // Cached per command class, so no command may carry middleware of its own.
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectTimeoutMs ?? S3_DEFAULTS.connectTimeoutMs,
      // An idle timeout, not a total one: a large part on a slow link may take long, but never
      // silently. The SDK retries the request when it fires.
      socketTimeout: options.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    }),
  };
  if (endpoint) config.endpoint = endpoint;
  if (region) config.region = region;
  if (options.credentials) config.credentials = options.credentials;
  else if (options.profile) config.credentials = defaultProvider({ profile: options.profile });
  const client = new S3Client(config);
  presetPayloadHash(client.middlewareStack);
  reportFailedAttempts(client.middlewareStack);
  return client;
}
