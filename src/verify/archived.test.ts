import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { FaultyBackend } from '../backend/testing/faulty-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ManualClock } from '../clock.js';
import { ArchivedError } from '../errors.js';
import { kindOfKey } from '../repository/layout.js';
import { readArchived } from './archived.js';
import { parseReadSubset } from './read-subset.js';
import { verifyRepository } from './verify.js';

const HOUR = 3_600_000;
const all = parseReadSubset(true);
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/** Four files backed up; then a lifecycle rule moved the first two (a.txt, b.txt) to Deep Archive. */
async function partlyArchived() {
  const clock = new ManualClock(new Date(Date.now() + HOUR));
  const memory = new MemoryBackend('memory://verify-cold', () => clock.now());
  const fixture = await replicationFixture(memory);
  cleanups.push(fixture.cleanup);
  await fixture.write({ 'a.txt': 'alpha', 'b.txt': 'bravo', 'c.txt': 'charlie', 'd.txt': 'delta' });
  await fixture.snapshot();
  const content = (await keysOf(memory)).filter((key) => kindOfKey(key) === 'content');
  const archived = content.filter((key) => /\/[ab]\.txt$/.test(key));
  for (const key of archived) memory.archive(key, 'DEEP_ARCHIVE');
  const backend = new CountingBackend(memory);
  return { clock, memory, backend, archived };
}

describe('verify --read-data and archived objects', () => {
  it('by default (the agent): reads the others, reports archived ones as not read, asks and HEADs nothing', async () => {
    const { backend, archived } = await partlyArchived();
    const result = await verifyRepository(backend, { readData: all });
    expect(result.problems).toEqual([]);
    expect(result.readData).toEqual({ objects: 2, bytes: 12 });
    expect(result.archived).toEqual({
      objects: 2,
      bytes: 10,
      read: 0,
      notRead: { objects: 2, bytes: 10, keys: archived },
      pending: 0,
      requested: 0,
    });
    expect(backend.total('head')).toBe(0);
    expect(backend.total('restore')).toBe(0);
    expect(backend.snapshot().filter((c) => c.outcome === 'ARCHIVED')).toEqual([]);
  });

  it('without --request-archived: reads restored copies, says how to get the rest', async () => {
    const { backend, memory, archived, clock } = await partlyArchived();
    await memory.requestRestore(archived[0]!, { tier: 'Standard', days: 2 });
    clock.advance(13 * HOUR);
    const result = await verifyRepository(backend, { readData: all, archived: readArchived({}) });
    expect(result.readData).toEqual({ objects: 3, bytes: 17 });
    expect(result.archived).toMatchObject({
      read: 1,
      notRead: { objects: 1, keys: [archived[1]] },
      pending: 0,
    });
    expect(result.archived?.hint).toContain('--request-archived: Bulk ≈ < $0.01, within 48 hours');
    expect(backend.total('restore')).toBe(0);
  });

  it('with --request-archived: asks for exactly the archived objects chosen, once; --wait reads them', async () => {
    const { backend, archived, clock } = await partlyArchived();
    const policy = { request: { tier: 'Bulk' as const, days: 1 } };
    const first = await verifyRepository(backend, { readData: all, archived: readArchived(policy) });
    expect(first.archived).toMatchObject({ requested: 2, pending: 2, read: 0, notRead: { objects: 0 } });
    expect(first.archived?.estimateUsd).toBeGreaterThan(0);
    expect(first.readData).toEqual({ objects: 2, bytes: 12 });
    const again = await verifyRepository(backend, { readData: all, archived: readArchived(policy) });
    expect(again.archived).toMatchObject({ requested: 0, pending: 2 });
    expect(backend.total('restore')).toBe(2);
    const waited = await verifyRepository(backend, {
      readData: all,
      archived: readArchived({ ...policy, wait: { clock } }),
    });
    expect(waited.archived).toMatchObject({ requested: 0, pending: 0, read: 2 });
    expect(waited.readData).toEqual({ objects: 4, bytes: 22 });
    expect(waited.problems).toEqual([]);
    expect(archived).toHaveLength(2);
  });

  it('counts an object archived between the listing and the read as not read, not as damage', async () => {
    const { memory } = await partlyArchived();
    const content = (await keysOf(memory)).filter((key) => /\/c\.txt$/.test(key));
    const faulty = new FaultyBackend(memory).failNext('get', () => new ArchivedError('archived meanwhile'), {
      key: /\/c\.txt$/,
    });
    const result = await verifyRepository(faulty, { readData: all });
    expect(result.problems).toEqual([]);
    expect(result.archived?.notRead).toMatchObject({ objects: 3 });
    expect(result.archived?.notRead.keys).toContain(content[0]);
  });
});
