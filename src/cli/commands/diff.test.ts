import { describe, expect, it } from 'vitest';
import type { Entry } from '../../repository/manifest.js';
import { diffEntries } from './diff.js';

const file = (path: string, sha256: string, mode = 0o644, mtime = '1'): Entry => ({
  type: 'file',
  path,
  sha256,
  mode,
  mtime,
  size: 1,
  key: `k/${path}`,
  uid: 0,
  gid: 0,
  ctime: '1',
  ino: 1,
});

describe('diffEntries', () => {
  it('sorts paths into added, removed, changed and metadata-only', () => {
    const a = new Map<string, Entry>([
      ['same', file('same', 'x')],
      ['gone', file('gone', 'x')],
      ['edited', file('edited', 'x')],
      ['chmod', file('chmod', 'x')],
      ['touched', file('touched', 'x')],
    ]);
    const b = new Map<string, Entry>([
      ['same', file('same', 'x')],
      ['new', file('new', 'y')],
      ['edited', file('edited', 'y')],
      ['chmod', file('chmod', 'x', 0o600)],
      ['touched', file('touched', 'x', 0o644, '2')],
    ]);
    expect(diffEntries(a, b)).toEqual({
      added: ['new'],
      removed: ['gone'],
      changed: ['edited'],
      metadata: ['chmod', 'touched'],
    });
  });
});
