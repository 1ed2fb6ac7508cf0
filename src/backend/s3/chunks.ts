/**
 * Cuts a stream into buffers of exactly `size` bytes (the last one may be shorter), reading only
 * as far ahead as the consumer pulls, so memory stays at about one part per part in flight.
 */
export async function* fixedSizeChunks(
  stream: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of stream) {
    let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    while (pendingBytes + chunk.length >= size) {
      const take = size - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending, size);
      chunk = chunk.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (chunk.length > 0) {
      pending.push(chunk);
      pendingBytes += chunk.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
