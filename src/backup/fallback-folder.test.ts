import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { FALLBACK_FOLDER } from '../repository/layout.js';
import { decodeManifest } from '../repository/manifest-codec.js';
import { initRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { restore } from '../restore/restore.js';
import { backup } from './backup.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-fallback-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe(`a source folder named ${FALLBACK_FOLDER}`, () => {
  // Content whose path cannot be a key goes to <host>/<stamp>/_twinvault_fallback/<sha256 of the
  // path>. A source of that name put its files' natural keys in the same folder: a file there
  // named like that digest took the other file's key, and the second upload replaced the first
  // object, so the first file no longer restored.
  it('cannot take the key of a file with a fallback key, and both restore exactly', async () => {
    const docs = join(dir, 'docs');
    const named = join(dir, FALLBACK_FOLDER);
    await mkdir(docs);
    await mkdir(named);
    await writeFile(join(docs, 'new\nline.txt'), 'the file with a fallback key');
    const digest = createHash('sha256').update('docs/new\nline.txt').digest('hex');
    await writeFile(join(named, digest), 'a file named like that key');
    await writeFile(join(named, 'plain.txt'), 'plain');

    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-05-01T00:00:00Z');
    const repository = await initRepository(backend, { clock });
    await backup({
      repository,
      sources: [{ path: docs }, { path: named }],
      host: 'box',
      stateFolder: join(dir, 'state'),
      clock,
    });
    const [ref] = await listSnapshots(backend);
    const { entries } = await decodeManifest(await backend.get(ref!.key), 'test');
    const keys: string[] = [];
    for await (const entry of entries) if (entry.type === 'file') keys.push(entry.key);
    expect(new Set(keys).size).toBe(3);

    const target = join(dir, 'restored');
    await restore({ repository, snapshot: ref!, target });
    expect(await readFile(join(target, 'docs', 'new\nline.txt'), 'utf8')).toBe(
      'the file with a fallback key',
    );
    expect(await readFile(join(target, FALLBACK_FOLDER, digest), 'utf8')).toBe('a file named like that key');
    expect(await readFile(join(target, FALLBACK_FOLDER, 'plain.txt'), 'utf8')).toBe('plain');
  });
});
