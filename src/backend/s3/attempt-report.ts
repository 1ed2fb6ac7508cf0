import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { attemptFailed } from '../attempts.js';

interface SdkFailure {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Tells backend/attempts.ts of each attempt the SDK is about to retry. Placed inside the SDK's
 * retry loop (after its retry middleware), so it sees every attempt; the attempt number comes from
 * the `amz-sdk-request` header the retry middleware sets. Added to the client once (its middleware
 * stack is cached).
 */
export function reportFailedAttempts(stack: S3Client['middlewareStack']): void {
  const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const header = (args.request as { headers?: Record<string, string> }).headers?.['amz-sdk-request'];
        const match = /attempt=(\d+); max=(\d+)/.exec(header ?? '');
        const reason = retriedReason(err as SdkFailure);
        if (match && reason !== undefined && Number(match[1]) < Number(match[2]))
          attemptFailed({ attempt: Number(match[1]), of: Number(match[2]), reason });
        throw err;
      }
    };
  stack.addRelativeTo(middleware, {
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    name: 'twinvaultAttemptReport',
  });
}

/** The failures the SDK's standard strategy retries, in a few words; undefined for the others. */
function retriedReason(err: SdkFailure): string | undefined {
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? err.code ?? 'error';
  if (status !== undefined) {
    const throttled = /throttl|slowdown|toomanyrequests|requesttimeout/i.test(name);
    return status >= 500 || status === 429 || throttled ? `HTTP ${status} ${name}` : undefined;
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    default:
      return name === 'TimeoutError' || err.code === 'ETIMEDOUT' ? 'no answer in time' : name;
  }
}
