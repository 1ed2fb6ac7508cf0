import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { systemClock } from '../../clock.js';
import { AlreadyExistsError, NotFoundError, StorageError } from '../../errors.js';
import {
  type ArchiveState,
  archivedObjectError,
  isArchiveClass,
  RETRIEVAL_HOURS,
  type RestoreRequest,
  type RestoreRequestOutcome,
} from '../archive.js';
import type {
  Backend,
  BackendCapabilities,
  BodySource,
  CopyOptions,
  DeleteManyResult,
  GetOptions,
  ListOptions,
  ObjectHead,
  ObjectInfo,
  PutOptions,
} from '../backend.js';
import { readExactly } from '../body.js';
import { streamCopy } from '../copy.js';
import { compareKeys, validateKey, validatePrefix } from '../keys.js';
import { resolveRange } from '../range.js';

interface StoredObject {
  data: Buffer;
  contentType: string | undefined;
  metadata: Record<string, string>;
  lastModified: Date;
  etag: string;
  /** Set for content written with a configured class, as S3 does; absent means the hot default. */
  storageClass?: string;
  /** A restore requested for an archived object: readable from `readyAt` until `until`. */
  restore?: { readyAt: Date; until: Date };
}

export interface MemoryBackendSettings {
  /** The class content objects are written in (PutOptions.content), like repository.storageClass. */
  storageClass?: string;
}

/**
 * Keeps objects in a Map. For tests, and as the reference the other backends must agree with.
 * archive() puts an object into an archive class, as an S3 lifecycle transition would; restores
 * then take the time S3 says (RETRIEVAL_HOURS) on the injected clock.
 */
export class MemoryBackend implements Backend {
  readonly capabilities: BackendCapabilities = { metadata: true, createOnly: 'atomic', archive: true };
  private readonly objects = new Map<string, StoredObject>();

  constructor(
    readonly location = 'memory://',
    private readonly now: () => Date = () => systemClock.now(),
    private readonly settings: MemoryBackendSettings = {},
  ) {}

  async check(): Promise<void> {}

  async create(): Promise<void> {}

  async put(key: string, body: BodySource, options: PutOptions = {}): Promise<void> {
    validateKey(key);
    // A copy: the bytes may be the caller's buffer, which it is free to reuse.
    const data = Buffer.from(await readExactly(await body.open(), body.size, `upload of ${key}`));
    if (options.createOnly && this.objects.has(key)) throw this.alreadyExists(key);
    this.objects.set(key, {
      data,
      contentType: options.contentType,
      metadata: { ...options.metadata },
      lastModified: this.now(),
      etag: createHash('md5').update(data).digest('hex'),
      ...this.classFor(options.content),
    });
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const object = this.readable(key);
    if (!options.range) return Readable.from([object.data]);
    const { start, end } = resolveRange(options.range, object.data.length, key);
    return Readable.from([object.data.subarray(start, end + 1)]);
  }

  async head(key: string): Promise<ObjectHead> {
    const object = this.find(key);
    return { ...this.info(key, object), contentType: object.contentType, metadata: { ...object.metadata } };
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    const keys = [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort(compareKeys);
    for (const key of keys) {
      if (options.startAfter !== undefined && compareKeys(key, options.startAfter) <= 0) continue;
      const object = this.objects.get(key);
      if (object) yield this.info(key, object, true);
    }
  }

  async copy(sourceKey: string, key: string, options: CopyOptions = {}): Promise<void> {
    validateKey(key);
    if (options.from && options.from !== this)
      return streamCopy(options.from, sourceKey, this, key, { content: options.content ?? false });
    const { storageClass: _, restore: __, ...object } = this.readable(sourceKey);
    this.objects.set(key, { ...object, lastModified: this.now(), ...this.classFor(options.content) });
  }

  async requestRestore(key: string, request: RestoreRequest): Promise<RestoreRequestOutcome> {
    const object = this.find(key);
    const state = this.archiveState(object);
    if (state === undefined) return 'not-archived';
    if (state.restore === 'in-progress') return 'in-progress';
    const now = this.now().getTime();
    if (state.restore === 'restored') {
      object.restore = { readyAt: object.restore!.readyAt, until: new Date(now + request.days * 86_400_000) };
      return 'restored';
    }
    const hours = RETRIEVAL_HOURS[object.storageClass!]?.[request.tier];
    if (hours === undefined) {
      throw new StorageError(`S3 offers no ${request.tier} retrieval for ${object.storageClass} ("${key}")`);
    }
    const readyAt = now + hours * 3_600_000;
    object.restore = { readyAt: new Date(readyAt), until: new Date(readyAt + request.days * 86_400_000) };
    return 'started';
  }

  /** Test hook: moves an object to an archive class, as a lifecycle transition does. */
  archive(key: string, storageClass = 'GLACIER'): void {
    const object = this.find(key);
    object.storageClass = storageClass;
    delete object.restore;
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    this.objects.delete(key);
  }

  async deleteMany(keys: Iterable<string>): Promise<DeleteManyResult> {
    let deleted = 0;
    for (const key of keys) {
      await this.delete(key);
      deleted++;
    }
    return { deleted, failed: [] };
  }

  async close(): Promise<void> {}

  private find(key: string): StoredObject {
    validateKey(key);
    const object = this.objects.get(key);
    if (!object) throw new NotFoundError(`no object ${JSON.stringify(key)} in ${this.location}`);
    return object;
  }

  /** The object, when it can be read now: an archived one needs a finished restore, as in S3. */
  private readable(key: string): StoredObject {
    const object = this.find(key);
    const state = this.archiveState(object);
    if (state !== undefined && state.restore !== 'restored') {
      throw archivedObjectError(`"${key}" in ${this.location}`, object.storageClass);
    }
    return object;
  }

  private archiveState(object: StoredObject): ArchiveState | undefined {
    if (!isArchiveClass(object.storageClass)) return undefined;
    const now = this.now().getTime();
    const restore = object.restore;
    if (restore === undefined || now >= restore.until.getTime()) return { restore: 'none' };
    if (now < restore.readyAt.getTime()) return { restore: 'in-progress' };
    return { restore: 'restored', restoredUntil: restore.until };
  }

  /** As an S3 listing: the class, but not how a restore stands (head() says). */
  private info(key: string, object: StoredObject, listing = false): ObjectInfo {
    const archive = this.archiveState(object);
    return {
      key,
      size: object.data.length,
      etag: object.etag,
      lastModified: object.lastModified,
      ...(object.storageClass === undefined ? {} : { storageClass: object.storageClass }),
      ...(archive === undefined ? {} : { archive: listing ? { restore: 'unknown' } : archive }),
    };
  }

  private classFor(content: boolean | undefined): { storageClass?: string } {
    return content && this.settings.storageClass !== undefined
      ? { storageClass: this.settings.storageClass }
      : {};
  }

  private alreadyExists(key: string) {
    return new AlreadyExistsError(`object ${JSON.stringify(key)} already exists in ${this.location}`);
  }
}
