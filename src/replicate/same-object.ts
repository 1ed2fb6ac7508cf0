import type { Backend, ObjectInfo } from '../backend/backend.js';

/**
 * Decides whether two objects of equal size whose ETags differ hold the same bytes. ETags differ
 * for the same bytes after a multipart copy, on another store, or with some encryption, so the
 * SHA-256 each twinvault content object carries in its metadata decides. Where a store keeps no
 * metadata (a folder), an object written after its source was is taken as its copy: twinvault
 * never rewrites a key with other bytes, so only an interrupted copy could differ, and an
 * interrupted copy leaves no object behind.
 */
export async function holdSameBytes(
  source: Backend,
  destination: Backend,
  sourceInfo: ObjectInfo,
  destinationInfo: ObjectInfo,
): Promise<boolean> {
  if (source.capabilities.metadata && destination.capabilities.metadata) {
    const [a, b] = await Promise.all([source.head(sourceInfo.key), destination.head(destinationInfo.key)]);
    const sha = a.metadata.sha256;
    if (sha !== undefined && b.metadata.sha256 !== undefined) return sha === b.metadata.sha256;
  }
  return destinationInfo.lastModified.getTime() >= sourceInfo.lastModified.getTime();
}
