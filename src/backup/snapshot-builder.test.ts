import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../repository/manifest.js';
import { FreshEntries } from './fresh-entries.js';
import { type ScanRecord, SnapshotBuilder } from './snapshot-builder.js';

const fileStat = (size: number) => `f/420/1000000000/0/0/${size}/1000000000/${size + 7}/1/1`;

/** A builder whose save queue holds `room` saves; the test empties it by hand. */
function builderWithQueue(room: number) {
  const queued: ScanRecord[] = [];
  const counts = { files: { unchanged: 0 }, dirs: 0, symlinks: 0, bytesTotal: 0 };
  const builder = new SnapshotBuilder([{ name: 'src', path: '/nowhere' }], counts, {
    onEvent() {},
    skip() {},
    note() {},
    save: (record: ScanRecord, _previous: FileEntry | undefined) => queued.push(record),
    full: () => queued.length >= room,
  });
  return { builder, queued };
}

describe('SnapshotBuilder with a full save queue', () => {
  it('pauses matching while the queue is full and asks for every save once, in scan order', async () => {
    const { builder, queued } = builderWithQueue(2);
    const records = Array.from({ length: 7 }, (_, i) => [`src/f${i}`, '', fileStat(i + 1)].join('\0'));
    builder.records(records.slice(0, 4).join('\0'));
    builder.records(records.slice(4).join('\0'));
    expect(queued).toEqual([]); // nothing is matched before the parents are known
    builder.useParents(new Map());
    expect(queued.map((record) => record.path)).toEqual(['src/f0', 'src/f1']);
    expect(builder.pending).toBe(true);
    await expect(builder.write(() => ({}) as never)).rejects.toThrow(/before every record was matched/);

    const saved: string[] = [];
    while (queued.length > 0 || builder.pending) {
      saved.push(...queued.splice(0).map((record) => record.path));
      builder.resume();
    }
    expect(saved).toEqual(records.map((_, i) => `src/f${i}`));
    expect(builder.totals).toMatchObject({ files: 7, toRead: 7, bytesToRead: 28 });
  });

  it('drops what waits when the run fails', () => {
    const { builder, queued } = builderWithQueue(1);
    builder.useParents(new Map());
    builder.records([`src/a`, '', fileStat(1), 'src/b', '', fileStat(2)].join('\0'));
    builder.close();
    queued.length = 0;
    builder.resume();
    builder.records([`src/c`, '', fileStat(3)].join('\0'));
    expect(queued).toEqual([]);
    expect(builder.pending).toBe(false);
  });
});

describe('FreshEntries', () => {
  it('gives back every field exactly, in path order, across buffer chunks', () => {
    const fresh = new FreshEntries();
    const long = 'x'.repeat(1.5 * 1024 * 1024); // larger than a chunk
    const added = [
      { path: 'src/b/ä', pathBytes: undefined, signature: 'f/1/2/3/4/5/6/7', line: '{"path":"src/b/ä"}' },
      { path: 'src/a', pathBytes: 'c3Jj/w==', signature: '', line: `{"big":"${long}"}` },
      { path: 'src/b', pathBytes: undefined, signature: 'd/1/2/3/4', line: '{"path":"src/b"}' },
    ];
    for (const entry of added) fresh.add(entry);
    fresh.sort();
    expect(fresh.size).toBe(3);
    expect([0, 1, 2].map((n) => fresh.path(n))).toEqual(['src/a', 'src/b', 'src/b/ä']);
    expect([0, 1, 2].map((n) => fresh.entry(n))).toEqual([added[1], added[2], added[0]]);
  });
});
