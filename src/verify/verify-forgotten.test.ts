import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { replicationFixture } from '../../test/replication-fixture.js';
import type { GetOptions, ListOptions, ObjectInfo } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ForwardingBackend } from '../backend/wrap/forwarding.js';
import { listSnapshots } from '../repository/snapshots.js';
import { verifyRepository } from './verify.js';

/** Runs `meanwhile` once, at the moment verify reaches a chosen step: retention elsewhere. */
class Meanwhile extends ForwardingBackend {
  constructor(
    inner: MemoryBackend,
    private readonly at: { get?: string; contentListing?: boolean },
    private meanwhile: (() => Promise<void>) | undefined,
  ) {
    super(inner);
  }
  private async once() {
    const run = this.meanwhile;
    this.meanwhile = undefined;
    await run?.();
  }
  override async get(key: string, options?: GetOptions): Promise<Readable> {
    if (key === this.at.get) await this.once();
    return super.get(key, options);
  }
  override async *list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    if (this.at.contentListing && !prefix) await this.once();
    yield* super.list(prefix, options);
  }
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
});

async function threeSnapshots() {
  const memory = new MemoryBackend('memory://verify-forgotten');
  const fixture = await replicationFixture(memory);
  cleanup = fixture.cleanup;
  for (const round of [1, 2, 3]) {
    await fixture.write({ 'a.txt': `version ${round}`, 'b.txt': 'never changes' });
    await fixture.snapshot();
  }
  const [first] = await listSnapshots(memory);
  const onlyFirst = `laptop/${first!.stamp}/Documents/a.txt`;
  return { memory, first: first!, onlyFirst };
}

describe('verify while retention runs elsewhere', () => {
  it('a manifest forgotten between listing and reading is gone, not damaged', async () => {
    const { memory, first } = await threeSnapshots();
    const backend = new Meanwhile(memory, { get: first.key }, () => memory.delete(first.key));
    const result = await verifyRepository(backend);
    expect(result.problems).toEqual([]);
    expect(result.snapshots).toBe(2);
  });

  it("a snapshot forgotten and pruned after its manifest was read: its objects' absence hurts nothing", async () => {
    const { memory, first, onlyFirst } = await threeSnapshots();
    const backend = new Meanwhile(memory, { contentListing: true }, async () => {
      await memory.delete(first.key);
      await memory.delete(onlyFirst);
    });
    expect((await verifyRepository(backend)).problems).toEqual([]);
  });

  it('an object missing for a snapshot still there is still reported', async () => {
    const { memory, first, onlyFirst } = await threeSnapshots();
    await memory.delete(onlyFirst);
    const result = await verifyRepository(memory);
    expect(result.problems).toMatchObject([{ kind: 'missing', key: onlyFirst, snapshots: [first.id] }]);
  });
});
