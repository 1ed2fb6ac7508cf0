import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { backup, startBackupScan } from './backup.js';
import { checkSourceFolders, checkSourcesUnchanged } from './source-folder.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-source-folder-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('source folders', () => {
  it('names every source that is missing or not a folder, and none that is fine', async () => {
    await mkdir(join(dir, 'fine'));
    await writeFile(join(dir, 'file'), 'x');
    const error = await checkSourceFolders([join(dir, 'fine'), join(dir, 'file'), join(dir, 'gone')]).catch(
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'LOCAL_PATH' });
    const message = (error as Error).message;
    expect(message).toContain(`the source ${join(dir, 'file')} is not a folder`);
    expect(message).toContain(`the source folder ${join(dir, 'gone')} does not exist`);
    expect(message).not.toContain(join(dir, 'fine'));
  });

  it('notices a root that was replaced (a disk unmounted: the path shows the mount point)', async () => {
    const root = join(dir, 'disk');
    await mkdir(root);
    const before = await checkSourceFolders([root]);
    await checkSourcesUnchanged(before);
    await rename(root, join(dir, 'away'));
    await mkdir(root);
    await expect(checkSourcesUnchanged(before)).rejects.toThrow(`the source folder ${root} was replaced`);
    await rm(root, { recursive: true });
    await expect(checkSourcesUnchanged(before)).rejects.toThrow(`the source folder ${root} does not exist`);
  });

  it('writes no snapshot when the root could not be read while it was scanned', async () => {
    const root = join(dir, 'Documents');
    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-05-01T00:00:00Z');
    const repository = await initRepository(backend, { clock });
    // The scan runs while the folder is away; it is back when the backup checks its sources.
    const scan = startBackupScan({ sources: [{ path: root }], scanThreads: 0 });
    await mkdir(root);
    await writeFile(join(root, 'a.txt'), 'a');
    await expect(
      backup({
        repository,
        sources: [{ path: root }],
        host: 'box',
        stateFolder: join(dir, 'state'),
        clock,
        scan,
      }),
    ).rejects.toThrow(`the source folder ${root} could not be read`);
    expect(await listSnapshots(backend)).toEqual([]);
  });
});
