import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BodySource, PutOptions } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ForwardingBackend } from '../backend/wrap/forwarding.js';
import { lstatExact } from '../fs/file-stat.js';
import { type ContentStore, saveFile } from './file-saver.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-saver-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noDedup: ContentStore = {
  find: async () => undefined,
  store: async (_sha, upload) => ({ key: await upload(), uploaded: true }),
  firstWriteOf: () => true,
};

describe('saveFile', () => {
  it('re-reads a file that changed after it was listed, storing the version it read whole', async () => {
    const path = join(dir, 'moving.txt');
    await writeFile(path, 'first version');
    const listed = await lstatExact(path);
    await writeFile(path, 'second, longer version');
    const backend = new MemoryBackend();
    const saved = await saveFile(backend, noDedup, Buffer.from(path), 'k', listed, 'moving.txt');
    expect(saved.stat.size).toBe(22);
    expect((await readAll(await backend.get('k'))).toString()).toBe('second, longer version');
    expect((await backend.head('k')).metadata.sha256).toBe(saved.sha256);
  });
});

describe('saveFile and swapped files', () => {
  it('never reads through a symlink that replaced the scanned file', async () => {
    const secret = join(dir, 'secret');
    await writeFile(secret, 'top secret');
    const path = join(dir, 'innocent.txt');
    await writeFile(path, 'harmless!!');
    const scanned = await lstatExact(path);
    await rm(path);
    await symlink(secret, path);
    const backend = new MemoryBackend();
    await expect(saveFile(backend, noDedup, path, 'k', scanned, 'innocent.txt')).rejects.toThrow(
      'not a regular file',
    );
    await expect(backend.head('k')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('saveFile and growing files', () => {
  it('reads a small file that grew large since the scan in pieces, and stores the grown version', async () => {
    const path = join(dir, 'log.txt');
    await writeFile(path, 'small');
    const scanned = await lstatExact(path);
    await writeFile(path, Buffer.alloc(3 * 1024 * 1024, 7)); // same inode, now 3 MiB
    const backend = new MemoryBackend();
    const saved = await saveFile(backend, noDedup, path, 'k', scanned, 'log.txt');
    expect(saved.stat.size).toBe(3 * 1024 * 1024);
    expect((await readAll(await backend.get('k'))).equals(Buffer.alloc(3 * 1024 * 1024, 7))).toBe(true);
  });
});

describe('saveFile and files rewritten in place while they are uploaded', () => {
  it('stores nothing under the key while the bytes sent are not the bytes hashed', async () => {
    // Large enough to be hashed first and then streamed from disk (not read into memory once).
    const size = 9 * 1024 * 1024;
    const path = join(dir, 'disk.img');
    await writeFile(path, Buffer.alloc(size, 1));
    const scanned = await lstatExact(path);
    const inner = new MemoryBackend();
    const landed: boolean[] = [];
    let rewrite = true;
    class RewritingDuringUpload extends ForwardingBackend {
      override async put(key: string, body: BodySource, options?: PutOptions) {
        if (rewrite) {
          rewrite = false;
          // Same size, same inode, other bytes: only the hash of what is sent can tell.
          const handle = await open(path, 'r+');
          await handle.write(Buffer.alloc(1024, 2), 0, 1024, size / 2);
          await handle.close();
        }
        try {
          await this.inner.put(key, body, options);
        } finally {
          landed.push(
            await this.inner.head(key).then(
              () => true,
              () => false,
            ),
          );
        }
      }
    }
    const saved = await saveFile(new RewritingDuringUpload(inner), noDedup, path, 'k', scanned, 'disk.img');
    // The first upload failed and left nothing; the second stored the new version whole.
    expect(landed).toEqual([false, true]);
    const stored = await readAll(await inner.get('k'));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(saved.sha256);
    expect((await inner.head('k')).metadata.sha256).toBe(saved.sha256);
  });
});
