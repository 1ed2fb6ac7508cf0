import { describe, expect, it } from 'vitest';
import { compareKeys, joinKey, validateKey } from './keys.js';

describe('object keys', () => {
  it('accepts ordinary and awkward but safe keys', () => {
    for (const key of [
      'a',
      'host/20260101_000000/docs/report.pdf',
      'naïve café/☕ 1+1=2 %?.txt',
      '.twinvault/config.json',
    ]) {
      expect(() => validateKey(key)).not.toThrow();
    }
  });

  it('rejects keys that could escape a folder or that S3 cannot hold', () => {
    for (const key of [
      '',
      '/abs',
      'end/',
      'a//b',
      '../up',
      'a/./b',
      'bell\u0007',
      'x'.repeat(1025),
      'lone\ud800surrogate',
    ]) {
      expect(() => validateKey(key), JSON.stringify(key)).toThrow(/invalid object key/);
    }
  });

  it('counts the 1,024-byte limit in UTF-8 bytes, not characters', () => {
    expect(() => validateKey('é'.repeat(512))).not.toThrow();
    expect(() => validateKey('é'.repeat(513))).toThrow(/longer than 1024 bytes/);
  });

  it('orders keys by UTF-8 bytes, as S3 lists them', () => {
    // UTF-16 order would put U+FF5A before U+1F600; UTF-8 byte order is the reverse.
    expect(['😀', 'ｚ', 'a/b', 'a.txt'].sort(compareKeys)).toEqual(['a.txt', 'a/b', 'ｚ', '😀']);
  });

  it('joins a prefix and a key with one slash', () => {
    expect(joinKey('', 'k')).toBe('k');
    expect(joinKey('p/q', 'k')).toBe('p/q/k');
    expect(joinKey('p/', 'k')).toBe('p/k');
  });
});
