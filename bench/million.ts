/**
 * Writes a synthetic snapshot of 1,000,000 entries (streamed, as backup writes manifests) into a
 * local-folder repository, then lists it entry by entry; prints times and peak RSS as JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyFromBuffer } from '../src/backend/body.js';
import { LocalBackend } from '../src/backend/local/local-backend.js';
import type { Entry, ManifestHeader } from '../src/repository/manifest.js';
import { decodeManifest, encodeManifest } from '../src/repository/manifest-codec.js';
import { refFor } from '../src/repository/snapshots.js';

const COUNT = 1_000_000;
const dir = await mkdtemp(join(tmpdir(), 'twinvault-million-'));
try {
  const backend = new LocalBackend(dir);
  const ref = refFor('synthetic', '20260101_000000');
  function* entries(): Generator<Entry> {
    for (let i = 0; i < COUNT; i++) {
      yield {
        type: 'file',
        // In path order, as every manifest is (the readers check it).
        path: `src/dir${String(Math.floor(i / 1000)).padStart(4, '0')}/file${String(i).padStart(7, '0')}.dat`,
        mode: 0o644,
        mtime: '1767225600000000000',
        uid: 1000,
        gid: 1000,
        size: 2048,
        sha256: (i * 2654435761).toString(16).padStart(64, '0'),
        key: `synthetic/20260101_000000/src/dir${Math.floor(i / 1000)}/file${i}.dat`,
        ctime: '1767225600000000000',
        ino: i,
      };
    }
  }
  const header: ManifestHeader = {
    format: 'twinvault-manifest',
    version: 1,
    id: ref.id,
    host: 'synthetic',
    stamp: ref.stamp,
    time: '2026-01-01T00:00:00.000Z',
    tags: [],
    sources: [{ name: 'src', path: '/src' }],
    summary: {
      files: COUNT,
      dirs: 0,
      symlinks: 0,
      bytes: COUNT * 2048,
      newFiles: COUNT,
      changedFiles: 0,
      unchangedFiles: 0,
      skipped: 0,
      bytesUploaded: 0,
    },
    entries: COUNT,
  };
  let started = Date.now();
  const encoded = await encodeManifest(header, entries());
  await backend.put(ref.key, bodyFromBuffer(encoded));
  const writeSeconds = (Date.now() - started) / 1000;
  started = Date.now();
  const { entries: listed } = await decodeManifest(await backend.get(ref.key), ref.key);
  let count = 0;
  for await (const _ of listed) count++;
  const listSeconds = (Date.now() - started) / 1000;
  console.log(
    JSON.stringify({
      entries: count,
      manifestMiB: encoded.length / 2 ** 20,
      writeSeconds,
      listSeconds,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
