/**
 * What differs between S3-compatible stores, as data. Matched on the endpoint's host name; a
 * store not listed gets the defaults, which suit MinIO, Ceph RGW and other faithful S3 clones.
 */
export interface ProviderQuirks {
  readonly name: string;
  /** Send bucket names in the path rather than the host name. */
  readonly pathStyle: boolean;
  /** How each upload is checksummed so the server can reject corrupted bytes. */
  readonly uploadChecksum: 'sha256' | 'md5';
  /** Whether PUT honours If-None-Match: * (an atomic create-only write). */
  readonly conditionalWrites: boolean;
}

interface ProviderRow extends ProviderQuirks {
  readonly hostSuffix: string;
}

const PROVIDERS: readonly ProviderRow[] = [
  {
    hostSuffix: 'amazonaws.com',
    name: 'AWS S3',
    pathStyle: false,
    uploadChecksum: 'sha256',
    conditionalWrites: true,
  },
  {
    hostSuffix: 'r2.cloudflarestorage.com',
    name: 'Cloudflare R2',
    pathStyle: true,
    uploadChecksum: 'sha256',
    conditionalWrites: true,
  },
  // B2 and GCS accept Content-MD5 on every write but not all x-amz-checksum-* headers.
  {
    hostSuffix: 'backblazeb2.com',
    name: 'Backblaze B2',
    pathStyle: true,
    uploadChecksum: 'md5',
    conditionalWrites: false,
  },
  {
    hostSuffix: 'storage.googleapis.com',
    name: 'Google Cloud Storage',
    pathStyle: true,
    uploadChecksum: 'md5',
    conditionalWrites: false,
  },
];

const AWS_DEFAULT = PROVIDERS[0]!;
const GENERIC: ProviderQuirks = {
  name: 'S3-compatible',
  pathStyle: true,
  uploadChecksum: 'sha256',
  conditionalWrites: true,
};

/** The quirks of the store at `endpoint`; with no endpoint, AWS itself. */
export function quirksFor(endpoint: string | undefined): ProviderQuirks {
  if (endpoint === undefined) return AWS_DEFAULT;
  const host = new URL(endpoint).hostname;
  return PROVIDERS.find((row) => host === row.hostSuffix || host.endsWith(`.${row.hostSuffix}`)) ?? GENERIC;
}
