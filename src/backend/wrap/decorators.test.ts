import { describe, expect, it } from 'vitest';
import { StorageUnreachableError } from '../../errors.js';
import { bodyFromBuffer, readAll } from '../body.js';
import { MemoryBackend } from '../memory/memory-backend.js';
import { describeBackendConformance } from '../testing/conformance.js';
import { FaultyBackend } from '../testing/faulty-backend.js';
import { CountingBackend } from './counting.js';

describe('counting decorator', () => {
  it('counts calls by operation and outcome', async () => {
    const backend = new CountingBackend(new MemoryBackend());
    await backend.put('a', bodyFromBuffer('1'));
    await backend.put('b', bodyFromBuffer('2'));
    await backend.head('missing').catch(() => {});
    for await (const _ of backend.list()) {
      // each page step counts as a list call
    }
    expect(backend.snapshot()).toEqual(
      expect.arrayContaining([
        { operation: 'put', outcome: 'ok', count: 2 },
        { operation: 'head', outcome: 'NOT_FOUND', count: 1 },
      ]),
    );
    expect(backend.total('put')).toBe(2);
  });
});

describe('fault-injecting wrapper', () => {
  it('fails the chosen calls, then lets the rest through', async () => {
    const inner = new MemoryBackend();
    const backend = new FaultyBackend(inner).failNext('put', () => new StorageUnreachableError('injected'), {
      times: 2,
      key: /^data\//,
    });
    await backend.put('other', bodyFromBuffer('not matched'));
    await expect(backend.put('data/1', bodyFromBuffer('x'))).rejects.toMatchObject({
      code: 'STORAGE_UNREACHABLE',
    });
    await expect(backend.put('data/1', bodyFromBuffer('x'))).rejects.toThrow('injected');
    await backend.put('data/1', bodyFromBuffer('third time'));
    expect((await readAll(await inner.get('data/1'))).toString()).toBe('third time');
  });
});

describe('restore requests through the decorators', () => {
  it('are forwarded, counted, and can be made to fail', async () => {
    const inner = new MemoryBackend();
    await inner.put('cold/a', bodyFromBuffer('a'));
    inner.archive('cold/a');
    const faulty = new FaultyBackend(inner).failNext(
      'restore',
      () => new StorageUnreachableError('injected'),
    );
    const backend = new CountingBackend(faulty);
    await expect(backend.requestRestore('cold/a', { tier: 'Bulk', days: 1 })).rejects.toThrow('injected');
    expect(await backend.requestRestore('cold/a', { tier: 'Bulk', days: 1 })).toBe('started');
    expect((await backend.head('cold/a')).archive).toEqual({ restore: 'in-progress' });
    expect(backend.snapshot()).toEqual(
      expect.arrayContaining([
        { operation: 'restore', outcome: 'STORAGE_UNREACHABLE', count: 1 },
        { operation: 'restore', outcome: 'ok', count: 1 },
      ]),
    );
    expect(backend.capabilities.archive).toBe(true);
  });
});

// The decorators must not change behaviour: they pass the whole conformance suite.
describeBackendConformance(
  'counting(faulty(memory)) with no faults',
  async () => ({
    backend: new CountingBackend(new FaultyBackend(new MemoryBackend())),
  }),
  { largeObjectSize: 6 * 1024 * 1024, largeCopySize: 6 * 1024 * 1024 },
);
