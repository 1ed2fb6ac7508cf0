import type { ObjectInfo } from '../backend/backend.js';
import { compareKeys } from '../backend/keys.js';

/**
 * One key of two listings walked side by side:
 * - missing: only the source has it;
 * - differs: both have it with different sizes;
 * - unsure: same size, different ETags (a multipart copy, another store, or encryption changes
 *   the ETag), so only the stored SHA-256 can tell;
 * - same: same size and ETag;
 * - extra: only the destination has it.
 */
export type ListingChange =
  | { kind: 'missing'; source: ObjectInfo }
  | { kind: 'differs' | 'unsure' | 'same'; source: ObjectInfo; destination: ObjectInfo }
  | { kind: 'extra'; destination: ObjectInfo };

/**
 * Merges two listings that are each in ascending UTF-8 byte order of keys (as every backend
 * lists), holding one object of each at a time: a 100,000-object comparison costs no memory.
 */
export async function* compareListings(
  source: AsyncIterable<ObjectInfo>,
  destination: AsyncIterable<ObjectInfo>,
): AsyncGenerator<ListingChange> {
  const sources = source[Symbol.asyncIterator]();
  const destinations = destination[Symbol.asyncIterator]();
  try {
    let [s, d] = await Promise.all([sources.next(), destinations.next()]);
    while (!s.done || !d.done) {
      const order = s.done ? 1 : d.done ? -1 : compareKeys(s.value.key, d.value.key);
      if (order < 0) {
        yield { kind: 'missing', source: s.value as ObjectInfo };
        s = await sources.next();
      } else if (order > 0) {
        yield { kind: 'extra', destination: d.value as ObjectInfo };
        d = await destinations.next();
      } else {
        const a = s.value as ObjectInfo;
        const b = d.value as ObjectInfo;
        const kind = a.size !== b.size ? 'differs' : a.etag === b.etag ? 'same' : 'unsure';
        yield { kind, source: a, destination: b };
        [s, d] = await Promise.all([sources.next(), destinations.next()]);
      }
    }
  } finally {
    await Promise.all([sources.return?.(), destinations.return?.()]);
  }
}
