import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../body.js';
import { LocalBackend } from './local-backend.js';

/** Makes a folder unwritable even for root (chattr +i), or by mode for other users. */
function lockFolder(path: string, locked: boolean): boolean {
  if (process.getuid?.() === 0) return spawnSync('chattr', [locked ? '+i' : '-i', path]).status === 0;
  spawnSync('chmod', [locked ? '555' : '755', path]);
  return true;
}

describe('local folder backend: bad targets', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinvault-local-bad-'));
  });
  afterEach(async () => {
    lockFolder(join(dir, 'locked'), false);
    await chmod(dir, 0o755).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a target that is a file, not a folder', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    const backend = new LocalBackend(file);
    await expect(backend.check()).rejects.toMatchObject({
      code: 'LOCAL_PATH',
      message: expect.stringContaining(`${file} is a file, not a folder`),
    });
    await expect(backend.put('x', bodyFromBuffer('x'))).rejects.toMatchObject({
      code: 'LOCAL_PATH',
      message: expect.stringContaining('a file stands where a folder is needed'),
    });
  });

  it('reports a missing folder and how to create it', async () => {
    const backend = new LocalBackend(join(dir, 'nope'));
    await expect(backend.check()).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('does not exist'),
      hint: expect.stringContaining('twinvault init'),
    });
  });

  it('reports a folder it cannot write to', async () => {
    const locked = join(dir, 'locked');
    const backend = new LocalBackend(locked);
    await backend.put('existing', bodyFromBuffer('x'));
    if (!lockFolder(locked, true)) throw new Error('could not make the test folder read-only');
    await expect(backend.check()).rejects.toMatchObject({
      code: 'LOCAL_PATH',
      message: expect.stringContaining('permission denied'),
    });
    await expect(backend.put('new', bodyFromBuffer('x'))).rejects.toMatchObject({ code: 'LOCAL_PATH' });
  });

  it('leaves no partial file behind when a write fails', async () => {
    const backend = new LocalBackend(join(dir, 'repo'));
    const body = { size: 100, open: () => bodyFromBuffer('short').open() };
    await expect(backend.put('partial', body)).rejects.toMatchObject({ code: 'INTEGRITY' });
    const keys = [];
    for await (const object of backend.list()) keys.push(object.key);
    expect(keys).toEqual([]);
  });
});

describe('local folder backend: failing sources', () => {
  it('names the source file, not the repository, when the data cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinvault-local-src-'));
    try {
      const backend = new LocalBackend(join(dir, 'repo'));
      const missing = join(dir, 'vanished.txt');
      const body = { size: 3, open: () => createReadStream(missing) };
      await expect(backend.put('k', body)).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining(`cannot read ${missing}`),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
