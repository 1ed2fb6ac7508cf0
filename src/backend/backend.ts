import type { Readable } from 'node:stream';

/**
 * The one storage interface every feature uses (DESIGN §3). Keys are relative to the backend's
 * root (bucket plus prefix, or a folder) and are validated by keys.ts. Every method reports
 * failures as TwinvaultError subclasses, so callers never see an SDK or filesystem error.
 */
export interface Backend {
  /** Where this backend stores data, as a URL without secrets, for messages and logs. */
  readonly location: string;
  readonly capabilities: BackendCapabilities;

  /** Checks that the location exists and can be reached; names what is wrong otherwise. */
  check(): Promise<void>;
  /** Creates the location (bucket or folder); an existing one is left as it is. */
  create(): Promise<void>;
  /** Stores a whole object. The body is a factory so a retry can read it again from the start. */
  put(key: string, body: BodySource, options?: PutOptions): Promise<void>;
  /** Streams an object, or part of it. Throws NotFoundError when it does not exist. */
  get(key: string, options?: GetOptions): Promise<Readable>;
  head(key: string): Promise<ObjectHead>;
  /** Every object whose key starts with `prefix`, in ascending UTF-8 byte order of keys. */
  list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Copies `sourceKey` (in `options.from`, default this backend) to `key` here, keeping metadata. */
  copy(sourceKey: string, key: string, options?: CopyOptions): Promise<void>;
  /** Deleting a key that does not exist is not an error. */
  delete(key: string): Promise<void>;
  deleteMany(keys: Iterable<string>): Promise<DeleteManyResult>;
  /** Releases connections; the backend is unusable afterwards. */
  close(): Promise<void>;
  /**
   * Removes (or with dryRun, counts) what writes that never finished left behind and last
   * touched before `before`: a local folder's `.twinvault-tmp/*.part` files of a killed process.
   * Stores whose writes are atomic (S3, memory) leave nothing and leave this out.
   */
  removeAbandonedWrites?(before: Date, options: { dryRun: boolean }): Promise<AbandonedWrites>;
}

export interface AbandonedWrites {
  files: number;
  bytes: number;
}

export interface BackendCapabilities {
  /** Whether user metadata and content type given to put() come back from head(). */
  readonly metadata: boolean;
  /** 'atomic': create-only writes cannot race; 'best-effort': checked, then written. */
  readonly createOnly: 'atomic' | 'best-effort';
  /** Objects are written with Object Lock retention (head() says until when). */
  readonly objectLock?: boolean;
}

export interface BodySource {
  /** Exact number of bytes open() yields; a different count fails the write. */
  readonly size: number;
  open(): Readable | Promise<Readable>;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Readonly<Record<string, string>>;
  /** Fail with AlreadyExistsError instead of replacing an existing object. */
  createOnly?: boolean;
  /**
   * The body's SHA-256 (hex), when the caller has computed it anyway: a backend may use it for its
   * integrity headers instead of hashing the body again. It must be right; the store checks it.
   */
  sha256?: string;
}

export interface GetOptions {
  range?: ByteRange;
}

export interface ByteRange {
  offset: number;
  /** Bytes to read from offset; to the end of the object when absent. */
  length?: number;
}

export interface ListOptions {
  /** List only keys that sort after this one (a resume point). */
  startAfter?: string;
}

export interface CopyOptions {
  /** The backend holding the source object; server-side copy is used when both share a store. */
  from?: Backend;
  /** Size and ETag of the source, when a listing gave them: spares a HEAD before a server-side copy. */
  source?: Pick<ObjectInfo, 'size' | 'etag'>;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** An opaque change token: the store's ETag, or size and mtime for a folder. */
  etag: string;
  lastModified: Date;
  /** The S3 storage class, when the store says (STANDARD, GLACIER_IR, ...). */
  storageClass?: string;
}

export interface ObjectHead extends ObjectInfo {
  contentType: string | undefined;
  metadata: Record<string, string>;
  /** Object Lock: the object cannot be deleted or overwritten before this time. */
  lockedUntil?: Date;
}

export interface DeleteManyResult {
  deleted: number;
  failed: Array<{ key: string; error: Error }>;
}
