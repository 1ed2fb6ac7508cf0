import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTree } from '../../test/tree.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { FaultyBackend } from '../backend/testing/faulty-backend.js';
import { ManualClock } from '../clock.js';
import { StorageUnreachableError } from '../errors.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { backup } from './backup.js';
import type { BackupEvent } from './events.js';

let dir: string;
let source: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-store-retry-'));
  source = join(dir, 'Documents');
  await mkdir(source);
  for (let i = 0; i < 20; i++) await writeFile(join(source, `f${i}.txt`), `file ${i}`);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const memory = new MemoryBackend();
  const faulty = new FaultyBackend(memory);
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const repository = await initRepository(faulty, { clock });
  const events: BackupEvent[] = [];
  const run = (storeRetryMs?: number) =>
    backup({
      repository,
      sources: [{ path: source }],
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
      onEvent: (event) => events.push(event),
      ...(storeRetryMs === undefined ? {} : { storeRetryMs }),
    });
  return { memory, faulty, clock, repository, events, run };
}

const down = () =>
  new StorageUnreachableError('cannot reach the S3 endpoint http://127.0.0.1:9 (connection refused)');

describe('a store that stops answering during a backup', () => {
  it('is retried with backoff: the backup completes, says it retried, and restores exactly', async () => {
    const { faulty, events, run, repository, memory } = await setup();
    // The store goes away for a few content uploads, the listing and the manifest's upload.
    faulty.failNext('put', down, { times: 5, key: /^laptop\// });
    faulty.failNext('list', down, { times: 2 });
    faulty.failNext('put', down, { times: 3, key: /^\.twinvault\/snapshots\// });
    const summary = await run();
    expect(summary.files.new).toBe(20);
    const retries = events.filter((event) => event.type === 'retrying');
    expect(retries).toHaveLength(10);
    expect(retries.every((r) => r.scope === 'operation' && r.reason.includes('connection refused'))).toBe(
      true,
    );
    const [ref] = await listSnapshots(memory);
    const target = join(dir, 'restored');
    await restore({ repository: { ...repository, backend: memory }, snapshot: ref!, target });
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(source));
  });

  it('fails with the cause after the time allowed, and writes no snapshot', async () => {
    const { faulty, clock, run, memory } = await setup();
    faulty.failNext('put', down, { times: 10_000, key: /^laptop\// });
    const start = clock.now().getTime();
    const error = await run(30_000).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'STORAGE_UNREACHABLE' });
    // (The calls in flight share the test's clock, so each sees it move by the others' waits too.)
    expect((error as Error).message).toMatch(/connection refused.*\(retried for \d+ s\)/);
    // Uploads fail together: the run ends once the first of them gives up (nothing waits longer).
    expect(clock.now().getTime() - start).toBeLessThan(10 * 30_000);
    expect(await listSnapshots(memory)).toEqual([]);
  });
});
