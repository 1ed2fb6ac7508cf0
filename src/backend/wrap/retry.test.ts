import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { AccessDeniedError, NotFoundError, StorageError, StorageUnreachableError } from '../../errors.js';
import { attemptFailed } from '../attempts.js';
import { bodyFromBuffer, readAll } from '../body.js';
import { MemoryBackend } from '../memory/memory-backend.js';
import { describeBackendConformance } from '../testing/conformance.js';
import { FaultyBackend } from '../testing/faulty-backend.js';
import { ForwardingBackend, type Operation } from './forwarding.js';
import { RetryingBackend, type StoreRetry } from './retry.js';

function setup(retryForMs = 120_000) {
  const inner = new MemoryBackend();
  const faulty = new FaultyBackend(inner);
  const clock = new ManualClock();
  const retries: StoreRetry[] = [];
  const backend = new RetryingBackend(faulty, { clock, retryForMs, onRetry: (r) => retries.push(r) });
  return { inner, faulty, clock, retries, backend };
}

const unreachable = () => new StorageUnreachableError('cannot reach the S3 endpoint (connection refused)');

describe('retry decorator', () => {
  it('retries a store that is down for a while, with growing waits, saying so each time', async () => {
    const { faulty, clock, retries, backend, inner } = setup();
    faulty.failNext('put', unreachable, { times: 4 });
    const start = clock.now().getTime();
    await backend.put('a', bodyFromBuffer('alpha'));
    expect((await readAll(await inner.get('a'))).toString()).toBe('alpha');
    expect(retries.map((r) => [r.scope, r.operation, r.key, r.attempt])).toEqual([
      ['operation', 'put', 'a', 1],
      ['operation', 'put', 'a', 2],
      ['operation', 'put', 'a', 3],
      ['operation', 'put', 'a', 4],
    ]);
    expect(retries[0]!.reason).toContain('connection refused');
    const delays = retries.map((r) => r.delayMs!);
    // 1 s, 2 s, 4 s, 8 s, each with jitter down to half.
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(500 * 2 ** i);
      expect(delay).toBeLessThanOrEqual(1000 * 2 ** i);
    });
    expect(clock.now().getTime() - start).toBe(delays.reduce((a, b) => a + b, 0));
  });

  it('gives up after the time allowed, with the cause and how long it tried', async () => {
    const { faulty, clock, backend } = setup(120_000);
    faulty.failNext('get', unreachable, { times: 1000 });
    const start = clock.now().getTime();
    const error = await backend.get('a').catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'STORAGE_UNREACHABLE', isRetryable: true });
    expect((error as Error).message).toMatch(/connection refused.*\(retried for 120 s\)/);
    expect(clock.now().getTime() - start).toBe(120_000);
  });

  it('with no time for retries, fails with the error itself at once', async () => {
    const { faulty, retries, backend } = setup(0);
    faulty.failNext('put', unreachable, { times: 1 });
    const error = await backend.put('a', bodyFromBuffer('x')).catch((err: unknown) => err);
    expect((error as Error).message).toBe(unreachable().message);
    expect(retries).toEqual([]);
  });

  it('does not retry refusals, missing objects or integrity errors', async () => {
    for (const error of [
      () => new AccessDeniedError('denied'),
      () => new NotFoundError('no object'),
      () => new StorageError('HTTP 400 InvalidArgument', { retryable: false }),
    ]) {
      const { faulty, retries, backend } = setup();
      faulty.failNext('head', error, { times: 1 });
      await expect(backend.head('a')).rejects.toThrow(error().message);
      expect(retries).toEqual([]);
    }
  });

  it('retries throttling and 5xx answers (retryable store failures)', async () => {
    const { faulty, retries, backend } = setup();
    faulty.failNext('delete', () => new StorageError('HTTP 503 SlowDown', { retryable: true }), { times: 2 });
    await backend.delete('a');
    expect(retries).toHaveLength(2);
  });

  it('reports the attempts the store client retries on its own, with the time left', async () => {
    const inner = new MemoryBackend();
    const retries: StoreRetry[] = [];
    const clock = new ManualClock();
    class Stalling extends ForwardingBackend {
      protected override async around<T>(_op: Operation, _key: string | undefined, call: () => Promise<T>) {
        for (let attempt = 1; attempt <= 2; attempt++) {
          clock.advance(60_000);
          attemptFailed({ attempt, of: 5, reason: 'no answer in time' });
        }
        return call();
      }
    }
    const backend = new RetryingBackend(new Stalling(inner), { clock, onRetry: (r) => retries.push(r) });
    await backend.put('k', bodyFromBuffer('v'));
    expect(retries).toEqual([
      {
        operation: 'put',
        key: 'k',
        scope: 'request',
        attempt: 1,
        reason: 'no answer in time',
        remainingMs: 120_000,
      },
      {
        operation: 'put',
        key: 'k',
        scope: 'request',
        attempt: 2,
        reason: 'no answer in time',
        remainingMs: 60_000,
      },
    ]);
  });

  it('takes a create-only write that landed although its answer was lost as done', async () => {
    const inner = new MemoryBackend();
    let lose = 1;
    class LostAnswer extends ForwardingBackend {
      protected override async around<T>(_op: Operation, _key: string | undefined, call: () => Promise<T>) {
        const result = await call();
        if (lose-- > 0) throw unreachable();
        return result;
      }
    }
    const backend = new RetryingBackend(new LostAnswer(inner), { clock: new ManualClock() });
    await backend.put('manifest', bodyFromBuffer('mine'), { createOnly: true });
    expect((await readAll(await inner.get('manifest'))).toString()).toBe('mine');

    // Someone else's object at the key is still a conflict.
    lose = 1;
    await inner.put('other', bodyFromBuffer('not mine'));
    await expect(
      backend.put('other', bodyFromBuffer('mine!!!!'), { createOnly: true }),
    ).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    // And without a failure first, a conflict is never looked into.
    await expect(backend.put('manifest', bodyFromBuffer('mine'), { createOnly: true })).rejects.toMatchObject(
      {
        code: 'ALREADY_EXISTS',
      },
    );
  });

  it('goes on with a listing that failed after some pages, from the last key it gave', async () => {
    const inner = new MemoryBackend();
    for (let i = 0; i < 10; i++) await inner.put(`k${i}`, bodyFromBuffer(String(i)));
    let failAfter = 4;
    class Breaking extends ForwardingBackend {
      override async *list(prefix?: string, options?: { startAfter?: string }) {
        for await (const object of this.inner.list(prefix, options)) {
          if (failAfter-- === 0) throw unreachable();
          yield object;
        }
      }
    }
    const retries: StoreRetry[] = [];
    const backend = new RetryingBackend(new Breaking(inner), {
      clock: new ManualClock(),
      onRetry: (r) => retries.push(r),
    });
    const keys: string[] = [];
    for await (const object of backend.list('k')) keys.push(object.key);
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
    expect(retries).toHaveLength(1);
  });
});

describeBackendConformance(
  'retry(memory)',
  async () => ({ backend: new RetryingBackend(new MemoryBackend()) }),
  { largeObjectSize: 6 * 1024 * 1024, largeCopySize: 6 * 1024 * 1024 },
);
