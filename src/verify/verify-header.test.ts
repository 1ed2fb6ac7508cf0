import { describe, expect, it } from 'vitest';
import { fileEntry, putManifest } from '../../test/manifests.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { initRepository } from '../repository/repository.js';
import { refFor } from '../repository/snapshots.js';
import { repairRepository } from './repair.js';
import { verifyRepository } from './verify.js';

async function twoSnapshots() {
  const backend = new MemoryBackend('memory://primary');
  await initRepository(backend, { clock: new ManualClock('2026-01-01T00:00:00Z') });
  const a = await putManifest(backend, 'laptop', '20260101_000000', [fileEntry('src/a')]);
  const b = await putManifest(backend, 'laptop', '20260102_000000', [fileEntry('src/b')]);
  return { backend, a, b };
}

describe("verify checks a manifest's header against its key", () => {
  it('a manifest copied under another key is reported, naming both', async () => {
    const { backend, a } = await twoSnapshots();
    const copy = refFor('desktop', '20260105_000000');
    await backend.put(copy.key, bodyFromBuffer(await readAll(await backend.get(a.key))));
    const { problems } = await verifyRepository(backend);
    expect(problems).toEqual([
      {
        kind: 'damaged-manifest',
        key: copy.key,
        snapshots: [copy.id],
        message: expect.stringMatching(
          /its header names another snapshot \(host "laptop", stamp 20260101_000000, id [0-9a-f]{32}, time 2026-01-01T00:00:00.000Z\) than its key \(host "desktop", stamp 20260105_000000/,
        ),
      },
    ]);
  });

  it('a forged time (a snapshot "from 2031" under an honest key) is reported', async () => {
    const { backend } = await twoSnapshots();
    const forged = await putManifest(backend, 'laptop', '20260103_000000', [fileEntry('src/c')], {
      header: { time: '2031-01-01T00:00:00.000Z' },
    });
    const { problems } = await verifyRepository(backend);
    expect(problems.map((p) => [p.key, p.message])).toEqual([
      [forged.key, expect.stringContaining('(time 2031-01-01T00:00:00.000Z)')],
    ]);
  });

  it('repair replaces it with the copy of the replica, and refuses a replica holding the same', async () => {
    const { backend, a, b } = await twoSnapshots();
    const replica = new MemoryBackend('memory://replica');
    for (const key of ['.twinvault/config.json', a.key, b.key, 'content/hello']) {
      await replica.put(key, bodyFromBuffer(await readAll(await backend.get(key))));
    }
    await backend.put(b.key, bodyFromBuffer(await readAll(await backend.get(a.key))));
    const repaired = await repairRepository(backend, replica);
    expect(repaired).toMatchObject({ repaired: [b.key], unrepaired: [] });
    expect((await verifyRepository(backend)).problems).toEqual([]);

    await backend.put(b.key, bodyFromBuffer(await readAll(await backend.get(a.key))));
    await replica.put(b.key, bodyFromBuffer(await readAll(await backend.get(a.key))));
    const refused = await repairRepository(backend, replica);
    expect(refused.unrepaired).toEqual([
      { key: b.key, message: expect.stringContaining('cannot repair it: its header names another snapshot') },
    ]);
  });
});
