import type { Backend, ObjectHead, ObjectInfo } from '../backend/backend.js';

/**
 * Whether a destination object holds the same bytes as its source, from their HEADs. Sizes first;
 * equal ETags settle it; ETags differ for the same bytes after a multipart copy, on another
 * store, or with some encryption, and then the SHA-256 each twinvault content object carries in
 * its metadata decides. Where there is none on one side (a manifest; a folder, which keeps no
 * metadata), a copy written after its source is taken as that copy: twinvault never rewrites a key
 * with other bytes, and an interrupted copy leaves no object behind.
 */
export function sameBytes(source: ObjectHead, destination: ObjectHead): boolean {
  if (source.size !== destination.size) return false;
  if (source.etag === destination.etag) return true;
  const [a, b] = [source.metadata.sha256, destination.metadata.sha256];
  if (a !== undefined && b !== undefined) return a === b;
  return destination.lastModified.getTime() >= source.lastModified.getTime();
}

/** sameBytes for two listed objects of equal size and different ETags: one HEAD each side. */
export async function holdSameBytes(
  source: Backend,
  destination: Backend,
  sourceInfo: ObjectInfo,
  destinationInfo: ObjectInfo,
): Promise<boolean> {
  if (!source.capabilities.metadata || !destination.capabilities.metadata) {
    return sameBytes(
      { ...sourceInfo, contentType: undefined, metadata: {} },
      { ...destinationInfo, contentType: undefined, metadata: {} },
    );
  }
  const [a, b] = await Promise.all([source.head(sourceInfo.key), destination.head(destinationInfo.key)]);
  return sameBytes(a, b);
}
