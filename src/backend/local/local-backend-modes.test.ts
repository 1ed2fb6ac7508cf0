import { chmod, lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modesBelow, notPrivate } from '../../../test/modes.js';
import { bodyFromBuffer } from '../body.js';
import { openBackend } from '../registry.js';
import { LocalBackend } from './local-backend.js';

describe('local folder backend: private to its user (DESIGN invariant 9)', () => {
  let dir: string;
  let umask: number;
  beforeEach(async () => {
    umask = process.umask();
    dir = await mkdtemp(join(tmpdir(), 'twinvault-local-modes-'));
  });
  afterEach(async () => {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  });

  for (const mask of [0o022, 0o000]) {
    it(`writes folders 0700 and objects 0600 with umask ${mask.toString(8).padStart(3, '0')}`, async () => {
      process.umask(mask);
      const root = join(dir, 'data', 'repository');
      const backend = new LocalBackend(root);
      await backend.create();
      await backend.put('.twinvault/config.json', bodyFromBuffer('{}'), { createOnly: true });
      await backend.put('.twinvault/snapshots/h/20240101_000000.json.gz', bodyFromBuffer('m'));
      await backend.put('.twinvault/locks/l.json', bodyFromBuffer('{}'), { createOnly: true });
      await backend.put('h/20240101_000000/docs/secret.txt', bodyFromBuffer('secret'));
      await backend.copy('h/20240101_000000/docs/secret.txt', 'h/20240102_000000/docs/copy.txt');
      await backend.check(); // its probe file leaves nothing behind
      const modes = await modesBelow(join(dir, 'data'));
      expect(notPrivate(modes)).toEqual([]);
      expect(modes).toContain('./repository/h/20240101_000000/docs/secret.txt 0600');
      expect(modes).toContain('./repository/h/20240102_000000/docs/copy.txt 0600');
      expect(modes).toContain('./repository/.twinvault/config.json 0600');
      expect(modes).toContain('./repository/.twinvault/locks/l.json 0600');
      expect(modes).toContain('./repository/.twinvault-tmp 0700');
      expect(modes).toContain('./repository/h/20240101_000000 0700');
      expect(modes).toContain('./repository 0700');
      expect(modes).toContain('. 0700');
    });
  }

  it('copies an object that an older version left 0644 as 0600', async () => {
    process.umask(0o022);
    const root = join(dir, 'repo');
    await mkdir(join(root, 'h', 's'), { recursive: true });
    await writeFile(join(root, 'h', 's', 'old.txt'), 'old', { mode: 0o644 });
    await new LocalBackend(root).copy('h/s/old.txt', 'h/t/new.txt');
    expect((await lstat(join(root, 'h', 't', 'new.txt'))).mode & 0o777).toBe(0o600);
  });

  it("closes an existing repository's folders when it is opened, leaving the user's own folders alone", async () => {
    process.umask(0o022);
    const root = join(dir, 'old-repo');
    for (const folder of ['.twinvault/snapshots/laptop', '.twinvault/locks', 'laptop/20240101_000000/docs'])
      await mkdir(join(root, folder), { recursive: true, mode: 0o755 });
    await mkdir(join(root, 'not-ours'), { mode: 0o755 });
    await writeFile(join(root, '.twinvault', 'config.json'), '{}', { mode: 0o644 });
    await writeFile(join(root, 'laptop', '20240101_000000', 'docs', 'a.txt'), 'a', { mode: 0o644 });
    await chmod(root, 0o755);
    await openBackend({ url: pathToFileURL(root).href });
    const modes = await modesBelow(root);
    for (const folder of ['.twinvault', '.twinvault/snapshots', '.twinvault/locks', 'laptop'])
      expect(modes).toContain(`./${folder} 0700`);
    expect(modes).toContain('./.twinvault/config.json 0600');
    // The root may be a folder the user chose (with --allow-nonempty, shared with other things):
    // it and folders that are not the repository's keep their modes; inside the closed folders
    // nothing is reachable by other users any more, whatever its own mode.
    expect(modes).toContain('. 0755');
    expect(modes).toContain('./not-ours 0755');
  });

  it('opens a repository it cannot change (another owner, a read-only disk) as before', async () => {
    const root = join(dir, 'missing');
    await expect(openBackend({ url: pathToFileURL(root).href })).resolves.toBeDefined();
  });
});
