import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.js';
import { backup } from '../src/backup/backup.js';
import { ManualClock } from '../src/clock.js';
import { kindOfKey } from '../src/repository/layout.js';
import { initRepository, openRepository } from '../src/repository/repository.js';
import { listSnapshots } from '../src/repository/snapshots.js';
import { restore } from '../src/restore/restore.js';
import { describeTree } from './tree.js';

/**
 * A folder on disk backed up into a repository, for replication tests: change files, back up
 * again, and check that a replica restores every snapshot exactly as the source does.
 */
export async function replicationFixture(repository: Backend) {
  const dir = await mkdtemp(join(tmpdir(), 'twinvault-replication-'));
  const folder = join(dir, 'Documents');
  await mkdir(folder);
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const repo = await initRepository(repository, { clock });
  const write = async (files: Record<string, string>) => {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(folder, name, '..'), { recursive: true });
      await writeFile(join(folder, name), content);
    }
  };
  const snapshot = async () => {
    clock.advance(60_000);
    return backup({
      repository: repo,
      sources: [{ path: folder }],
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
    });
  };
  /** Restores every snapshot of `replica` and compares it with the same snapshot restored from the source. */
  const expectSameRestores = async (replica: Backend) => {
    const replicaRepo = await openRepository(replica);
    const refs = await listSnapshots(replica);
    const results: boolean[] = [];
    for (const ref of refs) {
      const a = join(dir, `a-${ref.stamp}`);
      const b = join(dir, `b-${ref.stamp}`);
      await restore({ repository: repo, snapshot: ref, target: a });
      await restore({ repository: replicaRepo, snapshot: ref, target: b });
      results.push(JSON.stringify(await describeTree(a)) === JSON.stringify(await describeTree(b)));
    }
    return { snapshots: refs.length, allEqual: results.every(Boolean) };
  };
  /** Restores the newest snapshot of `replica` and compares it with the folder as it is now. */
  const latestRestoresAsFolder = async (replica: Backend) => {
    const ref = (await listSnapshots(replica)).at(-1)!;
    const target = join(dir, `latest-${ref.stamp}`);
    await restore({ repository: await openRepository(replica), snapshot: ref, target });
    return (
      JSON.stringify(await describeTree(join(target, 'Documents'))) ===
      JSON.stringify(await describeTree(folder))
    );
  };
  return {
    dir,
    latestRestoresAsFolder,
    folder,
    clock,
    repo,
    write,
    snapshot,
    expectSameRestores,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The keys replication copies (all but locks and replication state), in listing order. */
export async function keysOf(backend: Backend): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of backend.list()) if (kindOfKey(object.key) !== 'local') keys.push(object.key);
  return keys;
}
