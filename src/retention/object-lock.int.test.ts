import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, s3Server, testBackend, uniqueBucketName } from '../../test/s3.js';
import { bodyFromBuffer } from '../backend/body.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { forget } from './forget.js';
import { prune } from './prune.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('Object Lock on MinIO', () => {
  let work: string;
  const bucket = uniqueBucketName('object-lock');
  const backend = () => testBackend(minio!, bucket, { objectLock: { mode: 'GOVERNANCE', days: 1 } });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-object-lock-'));
  });
  afterAll(async () => {
    // Governance retention can be lifted by the root user: remove every version, then the bucket.
    const client = adminClient(minio!);
    for (let round = 0; round < 5; round++) {
      const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key!,
        VersionId: v.VersionId!,
      }));
      if (versions.length > 0) {
        await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: versions },
            BypassGovernanceRetention: true,
          }),
        );
      }
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    client.destroy();
    await rm(work, { recursive: true, force: true });
  });

  it('writes every object with retention; forget and prune keep what is locked and say so', async () => {
    const repoBackend = backend();
    await repoBackend.create();
    const clock = new ManualClock(new Date(Date.now() + 3_600_000));
    const repository = await initRepository(repoBackend, { clock });
    const folder = join(work, 'Documents');
    await mkdir(folder);
    for (const round of [1, 2, 3]) {
      await writeFile(join(folder, 'a.txt'), `version ${round}`);
      clock.advance(60_000);
      await backup({
        repository,
        sources: [{ path: folder }],
        host: 'laptop',
        stateFolder: join(work, 'state'),
        clock,
      });
    }
    const refs = await listSnapshots(repoBackend);
    const head = await repoBackend.head(refs[0]!.key);
    expect(head.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    const content = `laptop/${refs[0]!.stamp}/Documents/a.txt`;
    expect((await repoBackend.head(content)).lockedUntil).toBeDefined();
    // Locks are not retained: the backups released theirs.
    expect(await repoBackend.list('.twinvault/locks/')[Symbol.asyncIterator]().next()).toMatchObject({
      done: true,
    });

    const forgotten = await forget({
      backend: repoBackend,
      cache: new ManifestCache(join(work, 'cache')),
      policy: { last: 1 },
    });
    expect(forgotten.removed).toBe(0);
    expect(forgotten.groups[0]!.decisions.slice(1).map((d) => d.reasons[0])).toEqual([
      expect.stringMatching(/^locked until 20/),
      expect.stringMatching(/^locked until 20/),
    ]);
    expect(await listSnapshots(repoBackend)).toHaveLength(3);

    await repoBackend.put(
      'laptop/20200101_000000/Documents/leftover.txt',
      bodyFromBuffer('a crashed backup left this'),
    );
    const pruned = await prune({
      backend: repoBackend,
      clock: new ManualClock(new Date(Date.now() + 600_000)),
    });
    expect(pruned.deleted.objects).toBe(0);
    expect(pruned.locked).toMatchObject({ objects: 1, bytes: 'a crashed backup left this'.length });
    expect((await repoBackend.head('laptop/20200101_000000/Documents/leftover.txt')).size).toBeGreaterThan(0);
  });
});
