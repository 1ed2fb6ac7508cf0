import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ForwardingBackend } from '../backend/wrap/forwarding.js';
import { replicatePass } from '../replicate/pass.js';
import { listSnapshots } from '../repository/snapshots.js';
import { parseReadSubset } from './read-subset.js';
import { repairRepository } from './repair.js';
import { verifyRepository } from './verify.js';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

/**
 * Two snapshots and a replica; then, in the primary, the second manifest is damaged and the object
 * only that snapshot names is corrupt at the same size: verify cannot know it is needed.
 */
async function hiddenDamage() {
  const primary = new MemoryBackend('memory://primary');
  const fixture = await replicationFixture(primary);
  cleanups.push(fixture.cleanup);
  await fixture.write({ 'a.txt': 'first snapshot' });
  await fixture.snapshot();
  await fixture.write({ 'later.txt': 'second snapshot' });
  await fixture.snapshot();
  const replica = new MemoryBackend('memory://replica');
  await replicatePass({ source: primary, destination: replica });
  const later = (await keysOf(primary)).find((k) => k.endsWith('/later.txt'))!;
  const [, second] = await listSnapshots(primary);
  await primary.put(later, bodyFromBuffer('SECOND snapshot'));
  await primary.put(second!.key, bodyFromBuffer('not a manifest'));
  return { primary, replica, later, second: second! };
}

describe('repair checks what it repaired', () => {
  it('with --read-data, the objects a repaired manifest needs are read too, and repaired', async () => {
    const { primary, replica, later, second } = await hiddenDamage();
    const result = await repairRepository(primary, replica, { readData: parseReadSubset(true) });
    expect(result.repaired).toEqual(expect.arrayContaining([second.key, later]));
    expect(result.unrepaired).toEqual([]);
    expect((await readAll(await primary.get(later))).toString()).toBe('second snapshot');
    expect((await verifyRepository(primary, { readData: parseReadSubset(true) })).problems).toEqual([]);
  });

  it('without --read-data, a corrupt object of the right size is not looked for (as verify)', async () => {
    const { primary, replica, second } = await hiddenDamage();
    const result = await repairRepository(primary, replica);
    expect(result.repaired).toEqual([second.key]);
    expect(result.unrepaired).toEqual([]);
  });

  it('what does not read back as written is reported as not repaired', async () => {
    const { primary, replica, later, second } = await hiddenDamage();
    // A store that acknowledges writes of that object but keeps the old bytes.
    const lying = new (class extends ForwardingBackend {
      protected override async around<T>(
        operation: string,
        key: string | undefined,
        call: () => Promise<T>,
      ): Promise<T> {
        if (operation === 'put' && key === later) return undefined as T;
        return call();
      }
    })(primary);
    const result = await repairRepository(lying, replica, { readData: parseReadSubset(true) });
    expect(result.unrepaired).toEqual(
      expect.arrayContaining([{ key: later, message: expect.stringMatching(/still .* after the repair/) }]),
    );
    expect(result.repaired).not.toContain(later);
    // The manifest that needs it stays as it was: never one without its objects.
    expect(result.repaired).not.toContain(second.key);
  });
});
