import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * One attempt of a request that failed and that the store's client is about to make again on its
 * own (the AWS SDK retries each request with backoff). Nothing of this reaches the caller as an
 * error, so without being told, a store that stalls looks like minutes of silence.
 */
export interface FailedAttempt {
  /** The attempt that failed: 1 for the first. */
  attempt: number;
  /** Attempts the client makes at most. */
  of: number;
  /** What went wrong, in a few words ("connection refused", "HTTP 503 SlowDown"). */
  reason: string;
}

/**
 * Reported through the async context rather than through the Backend interface: the listener is
 * whoever made the call (the retry decorator, retry.ts), and a backend without a client of its own
 * that retries simply never reports.
 */
const listeners = new AsyncLocalStorage<(failed: FailedAttempt) => void>();

/** Runs `call`; failed attempts of the requests it makes are told to `listener`. */
export function observeAttempts<T>(
  listener: (failed: FailedAttempt) => void,
  call: () => Promise<T>,
): Promise<T> {
  return listeners.run(listener, call);
}

/** Called by a backend's client when an attempt failed and another one follows. */
export function attemptFailed(failed: FailedAttempt): void {
  listeners.getStore()?.(failed);
}
