import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, BodySource, PutOptions } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ForwardingBackend } from '../backend/wrap/forwarding.js';
import { ManualClock } from '../clock.js';
import { replicatePass } from '../replicate/pass.js';
import { kindOfKey } from '../repository/layout.js';
import { initRepository } from '../repository/repository.js';
import { backup } from './backup.js';

/** Records every put with whether it was marked as content. */
class RecordingBackend extends ForwardingBackend {
  readonly puts: Array<{ key: string; content: boolean }> = [];
  override put(key: string, body: BodySource, options?: PutOptions): Promise<void> {
    this.puts.push({ key, content: options?.content ?? false });
    return super.put(key, body, options);
  }
}

async function classesByKind(backend: Backend) {
  const seen: Record<string, string[]> = {};
  for await (const object of backend.list()) {
    const kind = kindOfKey(object.key) === 'content' ? 'content' : 'metadata';
    seen[kind] = [...new Set([...(seen[kind] ?? []), object.storageClass ?? 'STANDARD'])];
  }
  return seen;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-class-'));
  await mkdir(join(dir, 'Documents'));
  await writeFile(join(dir, 'Documents', 'small.txt'), 'small');
  // Above the quick-read limit: uploaded from disk through the streamed path.
  await writeFile(join(dir, 'Documents', 'large.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the repository storage class', () => {
  it('applies to content only: config, manifests and locks are written hot', async () => {
    const clock = new ManualClock(new Date(Date.now() + 3_600_000));
    const memory = new MemoryBackend('memory://cold', () => clock.now(), { storageClass: 'STANDARD_IA' });
    const recording = new RecordingBackend(memory);
    const repository = await initRepository(recording, { clock });
    await backup({
      repository,
      sources: [{ path: join(dir, 'Documents') }],
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
    });
    const marked = recording.puts.filter((p) => p.content).map((p) => p.key);
    const hot = recording.puts.filter((p) => !p.content).map((p) => p.key);
    expect(marked.sort()).toEqual(expect.arrayContaining([expect.stringMatching(/\/large\.bin$/)]));
    expect(marked.every((key) => kindOfKey(key) === 'content')).toBe(true);
    expect(marked).toHaveLength(2);
    // The config, the lock and the manifest were all written, none of them as content.
    expect(hot.some((key) => key.startsWith('.twinvault/locks/'))).toBe(true);
    expect(hot.some((key) => key.startsWith('.twinvault/snapshots/'))).toBe(true);
    expect(hot).toContain('.twinvault/config.json');
    expect(await classesByKind(memory)).toEqual({ content: ['STANDARD_IA'], metadata: ['STANDARD'] });
  });

  it("takes the replica's class for content a replication copies, and leaves manifests hot there", async () => {
    const clock = new ManualClock(new Date(Date.now() + 3_600_000));
    const source = new MemoryBackend('memory://hot-source', () => clock.now());
    const repository = await initRepository(source, { clock });
    await backup({
      repository,
      sources: [{ path: join(dir, 'Documents') }],
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
    });
    const replica = new MemoryBackend('memory://ia-replica', () => clock.now(), {
      storageClass: 'ONEZONE_IA',
    });
    const summary = await replicatePass({ source, destination: replica, clock });
    expect(summary.manifests.copied).toBe(1);
    expect(await classesByKind(source)).toEqual({ content: ['STANDARD'], metadata: ['STANDARD'] });
    expect(await classesByKind(replica)).toEqual({ content: ['ONEZONE_IA'], metadata: ['STANDARD'] });
  });
});
