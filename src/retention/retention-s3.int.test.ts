import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import { describeTree } from '../../test/tree.js';
import { backup } from '../backup/backup.js';
import type { Clock } from '../clock.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { forget } from './forget.js';
import { prune } from './prune.js';

const minio = s3Server('minio');

/** Real time, but waits (lock polls) pass fifty times faster. */
const quickClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.ceil(ms / 50))),
};

describe.skipIf(!minio)('retention on MinIO', () => {
  let work: string;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-retention-'));
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('forget --prune from the command line: a dry run first, then exactly the unneeded objects go', async () => {
    const { bucket, cleanup } = await createTestBucket(minio!, 'forget-cli');
    cleanups.push(cleanup);
    const home = join(work, 'home');
    const folder = join(work, 'Documents');
    await mkdir(home, { recursive: true });
    await mkdir(folder, { recursive: true });
    const env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio!.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: `s3://${bucket}/repo`,
    };
    const cli = (args: string[]) => runCli(args, { cwd: work, home, env });
    expect((await cli(['init'])).code).toBe(0);
    for (const round of [1, 2, 3]) {
      await writeFile(join(folder, 'notes.txt'), `version ${round}`);
      await writeFile(join(folder, 'same.txt'), 'unchanged');
      expect((await cli(['backup', folder, '--host', 'laptop'])).code).toBe(0);
    }
    const dry = JSON.parse(
      (await cli(['--json', 'forget', '--keep-last', '2', '--dry-run', '--prune'])).stdout,
    );
    expect(dry).toMatchObject({ dryRun: true, removed: 1, kept: 2, prune: { deleted: { objects: 0 } } });
    expect(
      dry.groups[0].snapshots.map((s: { keep: boolean; reasons: string[] }) => [s.keep, s.reasons]),
    ).toEqual([
      [true, ['latest', 'last']],
      [true, ['last']],
      [false, []],
    ]);
    const done = JSON.parse((await cli(['--json', 'forget', '--keep-last', '2', '--prune'])).stdout);
    expect(done).toMatchObject({
      removed: 1,
      kept: 2,
      prune: { deleted: { objects: 1, bytes: 'version 1'.length } },
    });
    const stats = JSON.parse((await cli(['--json', 'stats'])).stdout);
    expect(stats.hosts).toEqual([expect.objectContaining({ host: 'laptop', snapshots: 2, files: 2 })]);
    expect(Object.keys(stats.total.byStorageClass)).toEqual(['STANDARD']);
    // Without --keep-* options, the config's policy applies.
    await writeFile(join(work, 'twinvault.json'), JSON.stringify({ retention: { keepLast: 1 } }));
    const configured = JSON.parse((await cli(['--json', 'forget', '--dry-run'])).stdout);
    expect(configured).toMatchObject({ removed: 1, kept: 1 });
    await rm(join(work, 'twinvault.json'));
    expect((await cli(['forget'])).stderr).toContain('no retention policy');
    const target = join(work, 'restored');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(folder));
  });

  it('backups, forget and prune running at once, round after round: every snapshot left restores exactly', async () => {
    const { bucket, cleanup } = await createTestBucket(minio!, 'prune-stress');
    cleanups.push(cleanup);
    const backend = testBackend(minio!, bucket);
    const repository = await initRepository(backend, { clock: quickClock });
    const folder = join(work, 'stress');
    await mkdir(folder, { recursive: true });
    const cache = new ManifestCache(join(work, 'stress-cache'));
    const expected = new Map<string, Awaited<ReturnType<typeof describeTree>>>();
    for (let round = 0; round < 8; round++) {
      // Each round rewrites some files, adds one and deletes one: new, shared and orphaned content.
      for (let i = 0; i < 12; i++) {
        if (i % 3 === round % 3) await writeFile(join(folder, `file-${i}.txt`), `round ${round}, file ${i}`);
      }
      await writeFile(join(folder, `added-${round}.txt`), `added in round ${round}`);
      await rm(join(folder, `added-${round - 2}.txt`), { force: true });
      const tree = await describeTree(folder);
      const [made] = await Promise.all([
        backup({
          repository,
          sources: [{ path: folder }],
          host: 'laptop',
          stateFolder: join(work, 'stress-state'),
          clock: quickClock,
        }),
        (async () => {
          await forget({ backend, cache, policy: { last: 3 }, clock: quickClock });
          await prune({ backend, clock: quickClock });
        })(),
      ]);
      expected.set(made.stamp, tree);
    }
    await prune({ backend, clock: quickClock });
    const left = await listSnapshots(backend);
    expect(left.length).toBeGreaterThanOrEqual(3);
    for (const ref of left) {
      const target = join(work, `stress-restore-${ref.stamp}`);
      await restore({ repository, snapshot: ref, target });
      expect(await describeTree(join(target, 'stress')), ref.stamp).toEqual(expected.get(ref.stamp));
    }
    expect((await prune({ backend, clock: quickClock, dryRun: true })).unreferenced.objects).toBe(0);
  });
});
