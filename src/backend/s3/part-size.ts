import { UsageError } from '../../errors.js';

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
/** S3's limits for multipart uploads and copies. */
export const MIN_PART_SIZE = 5 * MIB;
export const MAX_PART_SIZE = 5 * GIB;
export const MAX_PARTS = 10_000;
export const MAX_OBJECT_SIZE = 5 * 1024 * GIB;

/**
 * The part size for an object of `size` bytes: the configured size, grown (in whole MiB) just
 * enough that the object fits in 10,000 parts. A 5 TiB object gets parts of 525 MiB.
 */
export function partSizeFor(size: number, preferred: number): number {
  if (size > MAX_OBJECT_SIZE) {
    throw new UsageError(
      `object of ${size} bytes is larger than S3's maximum of ${MAX_OBJECT_SIZE} bytes (5 TiB)`,
    );
  }
  const needed = Math.ceil(Math.ceil(size / MAX_PARTS) / MIB) * MIB;
  return Math.min(MAX_PART_SIZE, Math.max(preferred, MIN_PART_SIZE, needed));
}

/** Splits [0, size) into inclusive byte ranges of `partSize`, the last one shorter. */
export function partRanges(size: number, partSize: number): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < size; start += partSize) {
    ranges.push({ start, end: Math.min(size, start + partSize) - 1 });
  }
  return ranges;
}
