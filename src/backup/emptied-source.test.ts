import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { decodeManifestBytes } from '../repository/manifest-codec.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { type BackupSource, backup } from './backup.js';
import { checkSourceFolders, checkSourcesNotEmptied } from './source-folder.js';

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN): the real unmount tests. */
function mountTmpfs(folder: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'twinvault-test', folder], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
function unmount(folder: string): void {
  try {
    execFileSync('umount', [folder], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
}
const probe = await mkdtemp(join(tmpdir(), 'twinvault-mount-probe-'));
const CAN_MOUNT = process.platform === 'linux' && mountTmpfs(probe);
unmount(probe);
await rm(probe, { recursive: true, force: true });

let dir: string;
let disk: string;
let other: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-emptied-'));
  disk = join(dir, 'usb-disk');
  other = join(dir, 'Documents');
  await mkdir(disk);
  await mkdir(other);
  await writeFile(join(other, 'notes.txt'), 'notes');
});
afterEach(async () => {
  unmount(disk);
  await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const backend = new MemoryBackend();
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const repository = await initRepository(backend, { clock });
  const run = (sources: BackupSource[], extra: Partial<Parameters<typeof backup>[0]> = {}) => {
    clock.advance(60_000);
    return backup({
      repository,
      sources,
      host: 'laptop',
      stateFolder: join(dir, 'state'),
      clock,
      scanThreads: 0,
      ...extra,
    });
  };
  const headers = async () =>
    Promise.all(
      (await listSnapshots(backend)).map(
        async (ref) => (await decodeManifestBytes(await readAll(await backend.get(ref.key)), ref.key)).header,
      ),
    );
  return { backend, run, headers };
}

/** Three files (one of them hard-linked twice), a symlink and a folder: what an emptied disk loses. */
async function fillDisk(): Promise<void> {
  await mkdir(join(disk, 'photos'));
  await writeFile(join(disk, 'photos', 'a.jpg'), 'a');
  await writeFile(join(disk, 'b.txt'), 'b');
  await link(join(disk, 'b.txt'), join(disk, 'b-link.txt'));
  await symlink('b.txt', join(disk, 'to-b'));
}

async function emptyDisk(): Promise<void> {
  await rm(disk, { recursive: true });
  await mkdir(disk);
}

describe('a source folder that is there but empty (the mount point of a disk not mounted)', () => {
  it('fails the run, naming it and what its last snapshot held, and writes no snapshot', async () => {
    const { backend, run } = await setup();
    await fillDisk();
    const first = await run([{ path: disk }]);
    await emptyDisk();
    const error = await run([{ path: disk }]).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'LOCAL_PATH' });
    expect((error as Error).message).toBe(
      `the source folder ${disk} is empty, but its last snapshot (laptop/${first.stamp}) held 3 files`,
    );
    expect((error as { hint: string }).hint).toMatch(/disk not mounted.*--allow-empty.*"allowEmpty": true/);
    expect((await listSnapshots(backend)).map((ref) => ref.stamp)).toEqual([first.stamp]);
  });

  it('with several sources, names only the emptied one and writes nothing', async () => {
    const { backend, run } = await setup();
    await fillDisk();
    await run([{ path: disk }, { path: other }]);
    await emptyDisk();
    await writeFile(join(other, 'more.txt'), 'more');
    const error = (await run([{ path: disk }, { path: other }]).catch((err: unknown) => err)) as Error;
    expect(error.message).toContain(`the source folder ${disk} is empty`);
    expect(error.message).not.toContain(other);
    expect(await listSnapshots(backend)).toHaveLength(1);
  });

  it('is backed up when allowed (per source or for the run), and the next runs build on that', async () => {
    const { run } = await setup();
    await fillDisk();
    await run([{ path: disk }, { path: other }]);
    await emptyDisk();
    const allowed = await run([{ path: disk, allowEmpty: true }, { path: other }]);
    expect(allowed.written).toBe(true);
    expect(allowed.files.unchanged).toBe(1); // notes.txt; nothing of the disk
    // Its last snapshot now holds no files of it: an empty folder is what is expected.
    expect((await run([{ path: disk }, { path: other }])).written).toBe(true);

    await fillDisk();
    await run([{ path: disk }]);
    await emptyDisk();
    expect((await run([{ path: disk }], { allowEmpty: true })).written).toBe(true);
  });

  it('is backed up when it never held files: a first backup, or a folder that was always empty', async () => {
    const { run } = await setup();
    expect((await run([{ path: disk }])).written).toBe(true);
    await mkdir(join(disk, 'still-no-files'));
    await run([{ path: disk }]);
    await rm(join(disk, 'still-no-files'), { recursive: true });
    expect((await run([{ path: disk }])).written).toBe(true);
  });

  it('fails when the rules leave out everything it holds', async () => {
    const { backend, run } = await setup();
    await writeFile(join(disk, 'a.txt'), 'a');
    await run([{ path: disk }]);
    await rm(join(disk, 'a.txt'));
    await writeFile(join(disk, '.Trash-1000'), 'left by the desktop on the mount point');
    await expect(run([{ path: disk, exclude: ['.Trash-*'] }])).rejects.toThrow(
      `nothing in the source folder ${disk} is backed up (it holds only what its include and exclude rules leave out)`,
    );
    expect(await listSnapshots(backend)).toHaveLength(1);
    expect((await run([{ path: disk, exclude: ['.Trash-*'], allowEmpty: true }])).written).toBe(true);
  });

  it('fails a watcher-driven run too: the changes reported are every file gone', async () => {
    const { backend, run } = await setup();
    await fillDisk();
    await run([{ path: disk }]);
    await emptyDisk();
    const gone = ['photos', 'b.txt', 'b-link.txt', 'to-b'].map((name) => join(disk, name));
    await expect(run([{ path: disk }], { changedPaths: gone, skipIfUnchanged: true })).rejects.toThrow(
      `the source folder ${disk} is empty`,
    );
    expect(await listSnapshots(backend)).toHaveLength(1);
  });
});

describe('a source folder that was a mount point', () => {
  it('is told from a plain folder by its device', async () => {
    const [plain] = await checkSourceFolders([disk]);
    expect(plain).toMatchObject({ empty: true, mountPoint: false });
    if (process.platform === 'linux') {
      const [proc] = await checkSourceFolders(['/proc']);
      expect(proc).toMatchObject({ empty: false, mountPoint: true });
    }
  });

  it('fails when it no longer is, whatever the folder beneath holds; allowed, it is backed up', () => {
    const last = { name: 'laptop/20260501_000000', files: 12, mountPoint: true };
    const marker = { empty: false, mountPoint: false };
    expect(() =>
      checkSourcesNotEmptied([{ path: '/mnt/usb', now: marker, last, allowEmpty: false }]),
    ).toThrow(
      'the source folder /mnt/usb is no longer a mount point, but its last snapshot (laptop/20260501_000000) held 12 files of a disk mounted there',
    );
    checkSourcesNotEmptied([{ path: '/mnt/usb', now: marker, last, allowEmpty: true }]);
    checkSourcesNotEmptied([
      { path: '/mnt/usb', now: { empty: false, mountPoint: true }, last, allowEmpty: false },
    ]);
    // An older snapshot records no mount point: only emptiness can be judged.
    const older = { ...last, mountPoint: false };
    checkSourcesNotEmptied([{ path: '/mnt/usb', now: marker, last: older, allowEmpty: false }]);
  });

  it.runIf(CAN_MOUNT)('records a real mount point, and fails once the disk is unmounted', async () => {
    const { backend, run, headers } = await setup();
    // Beneath the mount, the folder holds a marker (as some users leave one): not empty, once unmounted.
    await writeFile(join(disk, 'NOT-MOUNTED'), '');
    expect(mountTmpfs(disk)).toBe(true);
    await fillDisk();
    await run([{ path: disk }, { path: other }]);
    expect((await headers())[0]!.sources).toEqual([
      { name: 'usb-disk', path: disk, mountPoint: true },
      { name: 'Documents', path: other },
    ]);

    unmount(disk);
    await expect(run([{ path: disk }, { path: other }])).rejects.toThrow(
      `the source folder ${disk} is no longer a mount point, but its last snapshot`,
    );
    // A watcher-driven run, told only of a change elsewhere, is no different.
    await expect(
      run([{ path: disk }, { path: other }], {
        changedPaths: [join(other, 'notes.txt')],
        skipIfUnchanged: true,
      }),
    ).rejects.toThrow('is no longer a mount point');
    expect(await listSnapshots(backend)).toHaveLength(1);

    // Mounted again: backed up, and an unchanged one is still "unchanged" (the record is the same).
    expect(mountTmpfs(disk)).toBe(true);
    await fillDisk();
    expect((await run([{ path: disk }, { path: other }])).written).toBe(true);
    expect((await run([{ path: disk }, { path: other }], { skipIfUnchanged: true })).written).toBe(false);
  });
});
