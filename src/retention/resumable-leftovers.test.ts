import { describe, expect, it } from 'vitest';
import type { ManifestHeader } from '../repository/manifest.js';
import { ResumableLeftovers } from './resumable-leftovers.js';

const NOW = new Date('2026-03-20T12:00:00Z');
const header = (host: string, stamp: string, sources: string[]) =>
  ({ host, stamp, sources: sources.map((name) => ({ name, path: `/home/${name}` })) }) as ManifestHeader;
const object = (key: string, daysOld = 1) => ({
  key,
  size: 1,
  etag: '',
  lastModified: new Date(NOW.getTime() - daysOld * 86_400_000),
});

describe('what prune keeps for a backup that resumes', () => {
  const leftovers = new ResumableLeftovers(NOW);
  leftovers.add(header('laptop', '20260310_090000', ['Documents', 'Photos']));
  leftovers.add(header('laptop', '20260318_090000', ['Documents']));
  leftovers.add(header('laptop', '20260318_090000_1', ['Photos']));

  it('keeps what a run after the newest snapshot of its source uploaded', () => {
    expect(leftovers.keeps(object('laptop/20260319_100000/Documents/a.txt'))).toBe(true);
    // A source's newest snapshot is per source: Photos' is the later one of that second.
    expect(leftovers.keeps(object('laptop/20260318_090000_2/Photos/a.jpg'))).toBe(true);
    expect(leftovers.keeps(object('laptop/20260318_090000_1/Photos/a.jpg'))).toBe(false);
    // An interrupted first backup of a source no snapshot holds yet, and of a new host.
    expect(leftovers.keeps(object('laptop/20260312_000000/Music/a.mp3'))).toBe(true);
    expect(leftovers.keeps(object('desktop/20260101_000000/Documents/a.txt', 20))).toBe(true);
  });

  it('lets go of what a completed run reused or replaced, and of a forgotten snapshot', () => {
    // Older than the newest snapshot of its source: a forgotten snapshot's, or a crash before it.
    expect(leftovers.keeps(object('laptop/20260315_000000/Documents/a.txt'))).toBe(false);
    expect(leftovers.keeps(object('laptop/20260310_090000/Photos/a.jpg'))).toBe(false);
  });

  it('lets go of every leftover after 30 days', () => {
    expect(leftovers.keeps(object('laptop/20260319_100000/Documents/a.txt', 30))).toBe(false);
    expect(leftovers.keeps(object('desktop/20260101_000000/Documents/a.txt', 31))).toBe(false);
  });

  it('counts a fallback folder against the oldest newest snapshot of the host', () => {
    expect(leftovers.keeps(object('laptop/20260318_090000_1/_twinvault_fallback/ab12'))).toBe(true);
    expect(leftovers.keeps(object('laptop/20260317_000000/_twinvault_fallback/ab12'))).toBe(false);
  });

  it('never keeps something that is not under a stamp folder', () => {
    expect(leftovers.keeps(object('laptop/stray.txt'))).toBe(false);
  });
});
