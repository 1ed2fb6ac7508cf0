import { describe, expect, it } from 'vitest';
import { parseByteSize, parseDuration } from './units.js';

describe('units', () => {
  it('parses byte sizes with binary and decimal units', () => {
    expect(parseByteSize('16MiB')).toBe(16 * 1024 * 1024);
    expect(parseByteSize('5 GiB')).toBe(5 * 1024 ** 3);
    expect(parseByteSize('1.5GB')).toBe(1.5e9);
    expect(parseByteSize('100')).toBe(100);
    expect(parseByteSize(4096)).toBe(4096);
    expect(parseByteSize('lots')).toBeUndefined();
    expect(parseByteSize(-1)).toBeUndefined();
  });

  it('parses durations, including compound ones', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });
});
