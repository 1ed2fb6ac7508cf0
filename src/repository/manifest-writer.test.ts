import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Entry, MANIFEST_FORMAT, MANIFEST_VERSION, type ManifestHeader } from './manifest.js';
import { decodeManifest, decodeManifestBuffer } from './manifest-codec.js';
import { endsBlock, ManifestWriter } from './manifest-writer.js';

function header(entries: number): ManifestHeader {
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id: 'x'.repeat(32),
    host: 'h',
    stamp: '20260101_000000',
    time: '2026-01-01T00:00:00.000Z',
    tags: [],
    sources: [{ name: 's', path: '/s' }],
    summary: {
      files: entries,
      dirs: 0,
      symlinks: 0,
      bytes: 0,
      newFiles: entries,
      changedFiles: 0,
      unchangedFiles: 0,
      skipped: 0,
      bytesUploaded: 0,
    },
    entries,
  };
}

const entries: Entry[] = Array.from({ length: 5000 }, (_, i) => ({
  type: 'file',
  path: `s/${String(i).padStart(5, '0')}`,
  mode: 0o644,
  mtime: '1',
  uid: 0,
  gid: 0,
  size: i,
  sha256: 'a'.repeat(64),
  key: `h/20260101_000000/s/${i}`,
  ctime: '1',
  ino: i,
}));

describe('ManifestWriter', () => {
  it('writes gzip members that every decoder (and plain gunzip) reads as one manifest', async () => {
    const writer = new ManifestWriter();
    for (const entry of entries) writer.add(JSON.stringify(entry), entry.path);
    const written = await writer.finish(header(entries.length));
    expect(written.blocks.length).toBeGreaterThan(20);
    expect(written.blocks.reduce((sum, block) => sum + block.entries, 0)).toBe(5000);
    expect(written.headerLength + written.blocks.reduce((sum, block) => sum + block.length, 0)).toBe(
      written.data.length,
    );
    expect(decodeManifestBuffer(written.data, 'm').entries).toEqual(entries);
    const streamed = await decodeManifest(Readable.from([written.data]), 'm');
    const all: Entry[] = [];
    for await (const entry of streamed.entries) all.push(entry);
    expect(all).toEqual(entries);
    expect(gunzipSync(written.data).toString().split('\n').length).toBe(5002);
  });

  it('refuses a manifest whose header count differs from the lines written', async () => {
    const writer = new ManifestWriter();
    writer.add(JSON.stringify(entries[0]), entries[0]!.path);
    await expect(writer.finish(header(2))).rejects.toThrow('2 entries but 1');
  });

  it('ends blocks by a rule that depends only on the path (an index names the rule it used)', () => {
    // Golden values: if these change, BLOCK_RULE must change too, or old indexes mislead.
    const ends = Array.from({ length: 400 }, (_, i) => endsBlock(`s/${i}`));
    expect(ends.map((end, i) => (end ? i : -1)).filter((i) => i >= 0)).toEqual([63, 133, 191, 227, 292]);
  });
});
