import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import {
  type Entry,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestHeader,
} from '../repository/manifest.js';
import { encodeManifest } from '../repository/manifest-codec.js';
import { initRepository } from '../repository/repository.js';
import { refFor } from '../repository/snapshots.js';
import { restore } from './restore.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-malicious-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SHA_OF_EVIL = '2b2b6e0b0a1a8e6c2f23c1b6ba3a4b1cbd9b4b1b6c4e6a0e3c1c1e1e1e1e1e1e';

/** A repository holding one hand-made manifest with the given entries. */
async function repositoryWith(entries: Entry[]) {
  const backend = new MemoryBackend();
  const clock = new ManualClock();
  const repository = await initRepository(backend, { clock });
  await backend.put('evil/content', bodyFromBuffer('evil'));
  const ref = refFor('attacker', '20260101_000000');
  const header: ManifestHeader = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id: ref.id,
    host: 'attacker',
    stamp: ref.stamp,
    time: '2026-01-01T00:00:00.000Z',
    tags: [],
    sources: [{ name: 'src', path: '/src' }],
    summary: {
      files: 1,
      dirs: 0,
      symlinks: 0,
      bytes: 4,
      newFiles: 1,
      changedFiles: 0,
      unchangedFiles: 0,
      skipped: 0,
      bytesUploaded: 4,
    },
    entries: entries.length,
  };
  await backend.put(ref.key, bodyFromBuffer(await encodeManifest(header, entries)));
  return { repository, ref };
}

const file = (path: string, extra: Partial<Entry> = {}): Entry =>
  ({
    type: 'file',
    path,
    mode: 0o644,
    mtime: '0',
    uid: 0,
    gid: 0,
    size: 4,
    sha256: SHA_OF_EVIL,
    key: 'evil/content',
    ctime: '0',
    ino: 1,
    ...extra,
  }) as Entry;

describe('restore refuses a malicious manifest', () => {
  for (const [label, entries] of [
    ['a ".." path', [file('src/../../escaped.txt')]],
    ['an absolute path', [file(`${'/tmp'}/escaped.txt`)]],
    ['a "." segment', [file('src/./x')]],
    ['an empty segment', [file('src//x')]],
    [
      'a raw path (pathBytes) with ".."',
      [file('../escaped.txt', { pathBytes: Buffer.from('../escaped.txt').toString('base64') })],
    ],
    [
      'a file below a symlink of the same manifest',
      [
        {
          type: 'symlink',
          path: 'src/link',
          target: '/tmp',
          mode: 0o777,
          mtime: '0',
          uid: 0,
          gid: 0,
        } as Entry,
        file('src/link/escaped.txt'),
      ],
    ],
  ] as const) {
    it(`with ${label}: nothing is written, anywhere`, async () => {
      const { repository, ref } = await repositoryWith([...entries]);
      const target = join(dir, 'target');
      await expect(restore({ repository, snapshot: ref, target })).rejects.toMatchObject({
        code: 'INTEGRITY',
        message: expect.stringContaining('refusing to restore'),
      });
      expect(await readdir(dir)).toEqual([]);
    });
  }

  it('never writes through a symlink that already exists in the target', async () => {
    const outside = join(dir, 'outside');
    const target = join(dir, 'target');
    await mkdir(outside);
    await mkdir(target);
    await symlink(outside, join(target, 'src'));
    const { repository, ref } = await repositoryWith([file('src/escaped.txt')]);
    await expect(restore({ repository, snapshot: ref, target })).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('is a symlink'),
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('rejects content that does not match its SHA-256, leaving no file', async () => {
    const { repository, ref } = await repositoryWith([
      { type: 'dir', path: 'src', mode: 0o755, mtime: '0', uid: 0, gid: 0 },
      file('src/tampered.txt'),
    ]);
    const target = join(dir, 'target');
    await expect(restore({ repository, snapshot: ref, target })).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('does not match its manifest'),
    });
    expect(await readdir(join(target, 'src'))).toEqual([]);
  });
});
