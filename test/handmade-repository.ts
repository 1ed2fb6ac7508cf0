import { createHash } from 'node:crypto';
import { bodyFromBuffer } from '../src/backend/body.js';
import { MemoryBackend } from '../src/backend/memory/memory-backend.js';
import { ManualClock } from '../src/clock.js';
import {
  type Entry,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestHeader,
} from '../src/repository/manifest.js';
import { encodeManifest } from '../src/repository/manifest-codec.js';
import { initRepository, type Repository } from '../src/repository/repository.js';
import { refFor, type SnapshotRef } from '../src/repository/snapshots.js';

/** One entry of a hand-made snapshot: a file with its content, a folder or a symlink. */
export type HandmadeEntry =
  | {
      type: 'file';
      path: string;
      content: string;
      mode?: number;
      mtimeMs?: number;
      /** The manifest's raw time string, as a forged manifest could hold it. */
      mtime?: string;
      uid?: number;
      gid?: number;
    }
  | { type: 'dir'; path: string; mode?: number; mtimeMs?: number }
  | { type: 'symlink'; path: string; target: string; mtimeMs?: number };

/** 2024-01-01T00:00:00Z: the snapshot's versions are older than anything written by a test. */
export const SNAPSHOT_MTIME_MS = Date.UTC(2024, 0, 1);

/**
 * A memory repository with one snapshot made by hand (host "h"), its content objects stored,
 * so a test can give entries any mode, owner and time a real backup could have recorded.
 */
export async function handmadeRepository(
  entries: HandmadeEntry[],
): Promise<{ repository: Repository; snapshot: SnapshotRef; backend: MemoryBackend }> {
  const backend = new MemoryBackend();
  const repository = await initRepository(backend, { clock: new ManualClock() });
  const snapshot = refFor('h', '20240101_000000');
  const made: Entry[] = [];
  let bytes = 0;
  for (const entry of [...entries].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const mtime =
      (entry.type === 'file' ? entry.mtime : undefined) ??
      `${BigInt(entry.mtimeMs ?? SNAPSHOT_MTIME_MS) * 1_000_000n}`;
    if (entry.type === 'file') {
      const data = Buffer.from(entry.content);
      const key = `h/20240101_000000/${entry.path}`;
      await backend.put(key, bodyFromBuffer(data));
      bytes += data.length;
      made.push({
        type: 'file',
        path: entry.path,
        mode: entry.mode ?? 0o644,
        mtime,
        uid: entry.uid ?? process.getuid?.() ?? 0,
        gid: entry.gid ?? process.getgid?.() ?? 0,
        size: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        key,
        ctime: mtime,
        ino: made.length + 1,
      });
    } else if (entry.type === 'dir') {
      made.push({ type: 'dir', path: entry.path, mode: entry.mode ?? 0o755, mtime, uid: 0, gid: 0 });
    } else {
      made.push({
        type: 'symlink',
        path: entry.path,
        target: entry.target,
        mode: 0o777,
        mtime,
        uid: 0,
        gid: 0,
      });
    }
  }
  const header: ManifestHeader = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id: snapshot.id,
    host: 'h',
    stamp: snapshot.stamp,
    time: new Date(SNAPSHOT_MTIME_MS).toISOString(),
    tags: [],
    sources: [{ name: 'src', path: '/src' }],
    summary: {
      files: made.filter((e) => e.type === 'file').length,
      dirs: made.filter((e) => e.type === 'dir').length,
      symlinks: made.filter((e) => e.type === 'symlink').length,
      bytes,
      newFiles: 0,
      changedFiles: 0,
      unchangedFiles: 0,
      skipped: 0,
      bytesUploaded: bytes,
    },
    entries: made.length,
  };
  await backend.put(snapshot.key, bodyFromBuffer(await encodeManifest(header, made)));
  return { repository, snapshot, backend };
}
