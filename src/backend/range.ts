import { UsageError } from '../errors.js';
import type { ByteRange } from './backend.js';

/**
 * Resolves a requested range against an object's size into inclusive [start, end] offsets; an
 * empty range (length 0, or starting at or past the end) comes back with end < start.
 */
export function resolveRange(range: ByteRange, size: number, key: string): { start: number; end: number } {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && length < 0)) {
    throw new UsageError(`invalid byte range for ${key}: offset ${offset}, length ${length}`);
  }
  const end = length === undefined ? size - 1 : Math.min(size - 1, offset + length - 1);
  return { start: offset, end };
}
