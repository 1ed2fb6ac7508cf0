import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { createTestBucket, s3Server } from '../../test/s3.js';

const minio = s3Server('minio');

interface Row {
  id: string;
  stamp: string;
  sources: string[];
}

describe.skipIf(!minio)('one laptop, two folders, snapshots per source (MinIO)', () => {
  let work: string;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-sources-'));
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('restore latest --include finds the photo in an older snapshot; forget keeps the newest holder of each source', async () => {
    const { bucket, cleanup } = await createTestBucket(minio!, 'sources');
    cleanups.push(cleanup);
    const home = join(work, 'home');
    const documents = join(work, 'Documents');
    const photos = join(work, 'photos');
    await mkdir(home, { recursive: true });
    await mkdir(documents);
    await mkdir(photos);
    const env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio!.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: `s3://${bucket}/repo`,
    };
    const cli = (args: string[]) => runCli(args, { cwd: work, home, env });
    const backup = async (...folders: string[]) =>
      expect((await cli(['backup', ...folders, '--host', 'laptop'])).code).toBe(0);
    expect((await cli(['init'])).code).toBe(0);

    // The agent backs up each source on its own: photos once, Documents whenever it changes;
    // in between, the user ran a manual backup of both folders.
    await writeFile(join(photos, 'img1.jpg'), 'the first photo');
    await writeFile(join(documents, 'notes.txt'), 'version 1');
    await backup(photos);
    await backup(documents);
    await backup(documents, photos);
    for (const version of [2, 3]) {
      await writeFile(join(documents, 'notes.txt'), `version ${version}`);
      await backup(documents);
    }
    const all: Row[] = JSON.parse((await cli(['--json', 'snapshots'])).stdout);
    expect(all.map((row) => row.sources.join('+'))).toEqual([
      'photos',
      'Documents',
      'Documents+photos',
      'Documents',
      'Documents',
    ]);
    const manual = all[2]!;

    const target = join(work, 'restored');
    const restored = await cli(['restore', 'latest', '--include', 'photos/img1.jpg', '--target', target]);
    expect(restored.stderr).toContain(
      `latest snapshot holding "photos/img1.jpg": ${manual.id.slice(0, 8)} (laptop/${manual.stamp}); 2 newer snapshot(s) do not hold it`,
    );
    expect(restored.code).toBe(0);
    expect(await readFile(join(target, 'photos', 'img1.jpg'), 'utf8')).toBe('the first photo');

    const ofPhotos: Row[] = JSON.parse((await cli(['--json', 'snapshots', '--source', 'photos'])).stdout);
    expect(ofPhotos.map((row) => row.id)).toEqual([all[0]!.id, manual.id]);
    // The newest snapshot of photos is the manual one, which holds Documents too.
    const listed = await cli(['ls', 'latest', '--source', 'photos']);
    expect(listed.stdout).toContain('photos/img1.jpg');
    expect(listed.stdout).toContain('Documents/notes.txt');
    expect(listed.stderr).toContain(`latest snapshot holding source "photos": ${manual.id.slice(0, 8)}`);

    // One group per source: the manual backup is in both, and is photos' newest.
    const forgotten = JSON.parse((await cli(['--json', 'forget', '--keep-last', '1', '--prune'])).stdout);
    expect(forgotten.groups.map((g: { group: unknown }) => g.group)).toEqual([
      { host: 'laptop', source: 'photos' },
      { host: 'laptop', source: 'Documents' },
    ]);
    expect(forgotten).toMatchObject({ removed: 3, kept: 2 });
    const left: Row[] = JSON.parse((await cli(['--json', 'snapshots'])).stdout);
    expect(left.map((row) => row.id)).toEqual([manual.id, all[4]!.id]);

    const again = join(work, 'restored-again');
    expect((await cli(['restore', 'latest', '--include', 'photos', '--target', again])).code).toBe(0);
    expect(await readFile(join(again, 'photos', 'img1.jpg'), 'utf8')).toBe('the first photo');
    const latestDocs = join(work, 'restored-docs');
    expect(
      (await cli(['restore', 'latest', '--include', 'Documents/notes.txt', '--target', latestDocs])).code,
    ).toBe(0);
    expect(await readFile(join(latestDocs, 'Documents', 'notes.txt'), 'utf8')).toBe('version 3');
    expect(await cli(['verify'])).toMatchObject({ code: 0 });
  });
});
