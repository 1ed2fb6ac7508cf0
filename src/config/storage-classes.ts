/** Every S3 storage class a price can be given for (`prices`), and that `stats` may meet. */
export const STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
  'REDUCED_REDUNDANCY',
  'EXPRESS_ONEZONE',
] as const;

/**
 * The classes `repository.storageClass` may name: an object in any of them can be read (restored,
 * verified, copied to a replica) the moment it is needed. REDUCED_REDUNDANCY stays for MinIO and
 * older configs. GLACIER and DEEP_ARCHIVE are reached only through `twinvault lifecycle`, once
 * the replicas hold a copy; EXPRESS_ONEZONE lives only in directory buckets, whose listings are
 * not in key order, which replication and verify rely on.
 */
export const WRITABLE_STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'REDUCED_REDUNDANCY',
] as const;

/**
 * The message for a storage class that cannot be written, or undefined for the generic one (a
 * list of the classes that can). Archive classes point to `lifecycle`; a writable class in the
 * wrong case is named as it should be written.
 */
export function unwritableClassMessage(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const name = input
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (/DEEP_?ARCHIVE/.test(name) || /^GLACIER(_FLEXIBLE(_RETRIEVAL)?)?$|^FLEXIBLE_RETRIEVAL$/.test(name)) {
    const archive = name.includes('DEEP') ? 'DEEP_ARCHIVE' : 'GLACIER';
    const flag = archive === 'DEEP_ARCHIVE' ? '--deep-archive-days' : '--glacier-days';
    return `"${input}" is an archive class: S3 cannot read or copy an object there until a restore request brings it back, hours later (a replica could never get it; config or manifests there would lock the repository); write content in a readable class (STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR) and let S3 move it to ${archive} after the replicas have it: twinvault lifecycle --apply ${flag} N (see docs/STORAGE.md)`;
  }
  if (name === 'EXPRESS_ONEZONE') {
    return '"EXPRESS_ONEZONE" lives only in S3 Express directory buckets, which list keys out of order; twinvault needs a general purpose bucket';
  }
  const writable = (WRITABLE_STORAGE_CLASSES as readonly string[]).find(
    (known) => known === name || known === name.replace(/_?INSTANT(_RETRIEVAL)?$/, '_IR'),
  );
  return writable && writable !== input ? `"${input}" is written "${writable}"` : undefined;
}
