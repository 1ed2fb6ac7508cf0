import { link, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import { describeTree } from '../../test/tree.js';
import { ManualClock } from '../clock.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { backup } from './backup.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('backup and restore on MinIO: every kind of file and name', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let bucket: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinvault-s3-kinds-'));
    ({ bucket, cleanup } = await createTestBucket(minio!, 'kinds'));
  });
  afterAll(async () => {
    await cleanup?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips files, empty folders, links, awkward names and a large multipart file exactly', async () => {
    const source = join(dir, 'src');
    await mkdir(join(source, 'empty'), { recursive: true });
    await writeFile(join(source, 'plain.txt'), 'plain');
    await writeFile(join(source, 'naïve café ☕ +%?.txt'), 'unicode');
    await writeFile(join(source, 'tab\there'), 'control character');
    await writeFile(Buffer.from([...Buffer.from(`${source}/raw-`), 0xc3, 0x28]), 'invalid utf-8');
    await symlink('plain.txt', join(source, 'link'));
    await link(join(source, 'plain.txt'), join(source, 'hard'));
    const big = Buffer.alloc(20 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await writeFile(join(source, 'big.bin'), big);

    const backend = testBackend(minio!, bucket);
    const clock = new ManualClock(new Date(Date.now() + 3_600_000));
    const repository = await initRepository(backend, { clock });
    const summary = await backup({
      repository,
      sources: [{ path: source }],
      host: 'box',
      stateFolder: join(dir, 'state'),
      clock,
    });
    expect(summary.files.new).toBe(6);
    const [ref] = await listSnapshots(backend);
    const target = join(dir, 'out');
    await restore({ repository, snapshot: ref!, target });
    expect(await describeTree(join(target, 'src'), { times: true })).toEqual(
      await describeTree(source, { times: true }),
    );
    const names = await readdir(Buffer.from(join(target, 'src')), { encoding: 'buffer' });
    expect(names.some((name) => name.includes(Buffer.from([0xc3, 0x28])))).toBe(true);

    // A second run reads nothing and uploads nothing.
    clock.advance(1000);
    const again = await backup({
      repository,
      sources: [{ path: source }],
      host: 'box',
      stateFolder: join(dir, 'state'),
      clock,
    });
    expect(again).toMatchObject({ bytesRead: 0, bytesUploaded: 0 });
    await backend.close();
  });
});
