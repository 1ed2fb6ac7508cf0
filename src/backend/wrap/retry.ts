import { type Clock, systemClock } from '../../clock.js';
import { isTwinvaultError, TwinvaultError } from '../../errors.js';
import { observeAttempts } from '../attempts.js';
import type { BodySource, ListOptions, ObjectInfo, PutOptions } from '../backend.js';
import { readAll } from '../body.js';
import { ForwardingBackend, type Operation } from './forwarding.js';

/** A failed call that is being tried again. */
export interface StoreRetry {
  operation: Operation;
  key: string | undefined;
  /**
   * 'request': the store's client makes one request again on its own (the SDK's retries, told
   * through backend/attempts.ts); 'operation': this decorator makes the whole call again after
   * `delayMs`.
   */
  scope: 'request' | 'operation';
  /** The attempt that failed (of the request, or of the operation). */
  attempt: number;
  reason: string;
  delayMs?: number;
  /** How much longer the call is retried before it fails. */
  remainingMs: number;
}

export interface RetryOptions {
  clock?: Clock;
  /** How long a call is retried, from its first failure, before it fails: default 2 minutes; 0: never. */
  retryForMs?: number;
  onRetry?: (retry: StoreRetry) => void;
}

export const DEFAULT_RETRY_FOR_MS = 120_000;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 15_000;
/** A create-only write that may have landed is compared with what is stored up to this size. */
const COMPARE_LIMIT = 64 * 1024 * 1024;

/**
 * Retries whole operations for a bounded time while the store is down or failing (restarted,
 * network gone for a moment), with exponential backoff and jitter, and says so through `onRetry`,
 * also for each attempt the SDK retries on its own (so a stalled store is not minutes of silence).
 * ARCHITECTURE "Decisions: Retries": the SDK retries each request (and each multipart part) a few
 * times within seconds; this layer covers the outage that outlasts those, re-opening the body
 * (bodies are factories). Only transient failures are retried (unreachable, 5xx, throttling);
 * refusals, missing objects and integrity errors fail at once. Methods the Backend interface gains
 * later go through around() of the forwarding base, so they are retried too.
 */
export class RetryingBackend extends ForwardingBackend {
  private readonly clock: Clock;
  private readonly retryForMs: number;
  /** Errors this layer gave up on: not retried again by an outer call (a listing's restart). */
  private readonly givenUp = new WeakSet<object>();

  constructor(
    inner: ConstructorParameters<typeof ForwardingBackend>[0],
    private readonly options: RetryOptions = {},
  ) {
    super(inner);
    this.clock = options.clock ?? systemClock;
    this.retryForMs = options.retryForMs ?? DEFAULT_RETRY_FOR_MS;
  }

  protected override around<T>(
    operation: Operation,
    key: string | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    return this.retrying(operation, key, call);
  }

  /**
   * A create-only write can land although its attempt failed (the answer was lost); its retry is
   * then refused as "already exists". When that happens after a failure and the stored object is
   * this very body, the write did succeed.
   */
  override async put(key: string, body: BodySource, options?: PutOptions): Promise<void> {
    let uncertain = false;
    try {
      await this.retrying(
        'put',
        key,
        () => this.inner.put(key, body, options),
        () => {
          uncertain = true;
        },
      );
    } catch (err) {
      const conflict = isTwinvaultError(err) && err.code === 'ALREADY_EXISTS';
      if (options?.createOnly && uncertain && conflict && (await this.holds(key, body, options))) return;
      throw err;
    }
  }

  /**
   * A listing that fails, on its first page or a later one, starts again after the last key it
   * gave (a failed listing cannot be asked for its next page again: it is over).
   */
  override async *list(prefix?: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let after = options.startAfter;
    const patience = new Patience(this.clock, this.retryForMs);
    const onAttempt = this.attemptReporter('list', prefix, patience);
    for (;;) {
      const from = after === undefined ? options : { ...options, startAfter: after };
      const iterator = this.inner.list(prefix, from)[Symbol.asyncIterator]();
      try {
        for (;;) {
          let next: IteratorResult<ObjectInfo>;
          try {
            next = await observeAttempts(onAttempt, () => iterator.next());
          } catch (err) {
            if (!this.isTransient(err)) throw err;
            await this.wait(patience, 'list', prefix, err);
            break;
          }
          if (next.done) return;
          after = next.value.key;
          patience.progressed();
          yield next.value;
        }
      } finally {
        // Stopping early (or starting again) must still let the inner listing clean up.
        await iterator.return?.();
      }
    }
  }

  private attemptReporter(
    operation: Operation,
    key: string | undefined,
    patience: Patience,
    onFailure?: () => void,
  ): (failed: { attempt: number; reason: string }) => void {
    return (failed) => {
      patience.begin();
      onFailure?.();
      this.options.onRetry?.({
        operation,
        key,
        scope: 'request',
        attempt: failed.attempt,
        reason: failed.reason,
        remainingMs: patience.remainingMs(),
      });
    };
  }

  private async retrying<T>(
    operation: Operation,
    key: string | undefined,
    call: () => Promise<T>,
    onFailure?: () => void,
  ): Promise<T> {
    const patience = new Patience(this.clock, this.retryForMs);
    const onAttempt = this.attemptReporter(operation, key, patience, onFailure);
    for (;;) {
      try {
        return await observeAttempts(onAttempt, call);
      } catch (err) {
        if (!this.isTransient(err)) throw err;
        onFailure?.();
        await this.wait(patience, operation, key, err);
      }
    }
  }

  /** Waits before the next attempt, saying so; throws when the time for retries is up. */
  private async wait(patience: Patience, operation: Operation, key: string | undefined, err: unknown) {
    if (this.retryForMs <= 0) throw err; // retries are someone else's (the agent's own backoff)
    const failure = err as TwinvaultError;
    const delay = patience.failed();
    if (delay === undefined) {
      const seconds = Math.round(patience.failingForMs() / 1000);
      const given = new TwinvaultError(failure.code, `${failure.message} (retried for ${seconds} s)`, {
        cause: err,
        retryable: true,
        hint: failure.hint ?? 'check that the store is running and reachable, then run again',
      });
      this.givenUp.add(given);
      throw given;
    }
    this.options.onRetry?.({
      operation,
      key,
      scope: 'operation',
      attempt: patience.attempts,
      reason: failure.message,
      delayMs: delay,
      remainingMs: patience.remainingMs(),
    });
    await this.clock.sleep(delay);
  }

  private isTransient(err: unknown): boolean {
    if (!isTwinvaultError(err) || this.givenUp.has(err) || !err.isRetryable) return false;
    return err.code === 'STORAGE_UNREACHABLE' || err.code === 'STORAGE_FAILED';
  }

  private async holds(key: string, body: BodySource, options: PutOptions): Promise<boolean> {
    try {
      const head = await this.inner.head(key);
      if (head.size !== body.size) return false;
      const sha256 = options.sha256 ?? options.metadata?.sha256;
      if (sha256 !== undefined && this.inner.capabilities.metadata && head.metadata.sha256 === sha256)
        return true;
      if (body.size > COMPARE_LIMIT) return false;
      const [stored, ours] = await Promise.all([
        this.inner.get(key).then(readAll),
        Promise.resolve(body.open()).then(readAll),
      ]);
      return stored.equals(ours);
    } catch {
      return false;
    }
  }
}

/** The retry budget of one call: measured from its first failure, with the delays between attempts. */
class Patience {
  attempts = 0;
  private firstFailure: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly budgetMs: number,
  ) {}

  /** A request failed and its client retries it: the budget runs from now. */
  begin(): void {
    this.firstFailure ??= this.clock.now().getTime();
  }

  /** Counts a failure; the delay before the next attempt, or undefined when time is up. */
  failed(): number | undefined {
    const now = this.clock.now().getTime();
    this.firstFailure ??= now;
    this.attempts++;
    const left = this.firstFailure + this.budgetMs - now;
    if (left <= 0) return undefined;
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(this.attempts - 1, 10));
    // Jitter: clients that lost the store together do not all come back in the same instant.
    return Math.min(left, Math.round(ceiling * (0.5 + Math.random() / 2)));
  }

  /** Data arrived again: a later failure gets the whole budget. */
  progressed(): void {
    this.firstFailure = undefined;
    this.attempts = 0;
  }

  remainingMs(): number {
    if (this.firstFailure === undefined) return this.budgetMs;
    return Math.max(0, this.firstFailure + this.budgetMs - this.clock.now().getTime());
  }

  failingForMs(): number {
    return this.firstFailure === undefined ? 0 : this.clock.now().getTime() - this.firstFailure;
  }
}
