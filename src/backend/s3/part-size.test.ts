import { describe, expect, it } from 'vitest';
import { GIB, MAX_OBJECT_SIZE, MAX_PARTS, MIB, MIN_PART_SIZE, partRanges, partSizeFor } from './part-size.js';

describe('part sizes', () => {
  it('uses the preferred size while the object fits in 10,000 parts', () => {
    expect(partSizeFor(100 * MIB, 16 * MIB)).toBe(16 * MIB);
    expect(partSizeFor(16 * MIB * MAX_PARTS, 16 * MIB)).toBe(16 * MIB);
  });

  it('never goes below S3 minimum part size', () => {
    expect(partSizeFor(10 * MIB, 1 * MIB)).toBe(MIN_PART_SIZE);
  });

  it('grows, in whole MiB, so an object of up to 5 TiB fits in 10,000 parts', () => {
    for (const size of [16 * MIB * MAX_PARTS + 1, 1024 * GIB, MAX_OBJECT_SIZE]) {
      const part = partSizeFor(size, 16 * MIB);
      expect(part % MIB).toBe(0);
      expect(Math.ceil(size / part)).toBeLessThanOrEqual(MAX_PARTS);
      expect(part).toBeLessThanOrEqual(5 * GIB);
    }
    expect(partSizeFor(MAX_OBJECT_SIZE, 16 * MIB)).toBe(525 * MIB);
  });

  it('refuses objects larger than S3 allows', () => {
    expect(() => partSizeFor(MAX_OBJECT_SIZE + 1, 16 * MIB)).toThrow(/larger than S3's maximum/);
  });

  it('splits an object into inclusive ranges', () => {
    expect(partRanges(10, 4)).toEqual([
      { start: 0, end: 3 },
      { start: 4, end: 7 },
      { start: 8, end: 9 },
    ]);
    expect(partRanges(8, 4)).toHaveLength(2);
  });
});
