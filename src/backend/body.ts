import { Readable } from 'node:stream';
import { IntegrityError } from '../errors.js';
import type { BodySource } from './backend.js';

/** A body over bytes in memory; they are not copied, so the caller must not change them. */
export function bodyFromBuffer(data: Uint8Array | string): BodySource {
  const bytes =
    typeof data === 'string'
      ? Buffer.from(data, 'utf8')
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { size: bytes.length, open: () => Readable.from([bytes]) };
}

/**
 * Reads a stream to the end into one buffer, failing if it yields a different number of bytes
 * than expected: a source file that changed while it was read must not be stored as if whole.
 */
export async function readExactly(stream: AsyncIterable<Uint8Array>, expected: number, what: string) {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > expected) break;
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  if (total !== expected) throw sizeMismatch(what, expected, total);
  // One chunk (a body from memory) is returned as it is: no copy of a file-sized buffer.
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

export function sizeMismatch(what: string, expected: number, actual: number): IntegrityError {
  const actualText = actual > expected ? `more than ${expected}` : String(actual);
  return new IntegrityError(
    `${what}: expected ${expected} bytes but read ${actualText}; the source changed while it was being read`,
    { retryable: true },
  );
}

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
