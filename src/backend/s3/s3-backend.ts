import { PassThrough, Readable } from 'node:stream';
import {
  type BucketLocationConstraint,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  RestoreObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { systemClock } from '../../clock.js';
import { StorageError, type TwinvaultError } from '../../errors.js';
import { isArchiveClass, type RestoreRequest, type RestoreRequestOutcome } from '../archive.js';
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
import { joinKey, validateKey, validatePrefix } from '../keys.js';
import { resolveRange } from '../range.js';
import { createS3Client } from './client.js';
import { describeCredentialSource } from './credential-source.js';
import { mapS3Error } from './errors.js';
import { multipartCopy } from './multipart-copy.js';
import { multipartUpload } from './multipart-upload.js';
import { resolveEndpoint, S3_DEFAULTS, type S3BackendOptions } from './options.js';
import { partSizeFor } from './part-size.js';
import { type ProviderQuirks, quirksFor } from './providers.js';
import { archiveStateFromHead } from './restore-status.js';
import { checksumParams, writeParams } from './write-params.js';

const DELETE_BATCH = 1000;
const LIST_PAGE = 1000;

/** A repository in an S3 bucket (AWS or any S3-compatible store), under an optional key prefix. */
export class S3Backend implements Backend {
  readonly capabilities: BackendCapabilities;
  readonly location: string;
  readonly bucket: string;
  /** Same value for two backends that can copy between each other server-side. */
  readonly storeIdentity: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private readonly quirks: ProviderQuirks;
  /** Stores that reject the SDK's newer checksums (checksumMode when_required) get Content-MD5. */
  private readonly uploadChecksum: 'sha256' | 'md5';
  private readonly endpointLabel: string;
  private readonly credentialSource: string;
  private readonly settings: Required<
    Pick<
      S3BackendOptions,
      'multipartThreshold' | 'partSize' | 'multipartCopyThreshold' | 'copyPartSize' | 'partConcurrency'
    >
  >;

  constructor(private readonly options: S3BackendOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    const endpoint = resolveEndpoint(options);
    this.quirks = quirksFor(endpoint);
    this.uploadChecksum = options.checksumMode === 'when_required' ? 'md5' : this.quirks.uploadChecksum;
    this.endpointLabel = endpoint ?? `AWS S3${options.region ? ` (${options.region})` : ''}`;
    this.credentialSource = describeCredentialSource(options);
    this.storeIdentity = [
      endpoint ?? 'aws',
      options.credentials?.accessKeyId ?? '',
      options.profile ?? '',
    ].join('|');
    this.capabilities = {
      metadata: true,
      createOnly: this.quirks.conditionalWrites ? 'atomic' : 'best-effort',
      archive: true,
      ...(options.objectLock ? { objectLock: true } : {}),
    };
    this.client = createS3Client(options);
    this.settings = {
      multipartThreshold: options.multipartThreshold ?? S3_DEFAULTS.multipartThreshold,
      partSize: options.partSize ?? S3_DEFAULTS.partSize,
      multipartCopyThreshold: options.multipartCopyThreshold ?? S3_DEFAULTS.multipartCopyThreshold,
      copyPartSize: options.copyPartSize ?? S3_DEFAULTS.copyPartSize,
      partConcurrency: options.partConcurrency ?? S3_DEFAULTS.partConcurrency,
    };
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw this.error(err, 'HeadBucket');
    }
  }

  async create(): Promise<void> {
    const region = await this.client.config.region();
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // Object Lock can only be turned on when a bucket is created.
          ...(this.options.objectLock ? { ObjectLockEnabledForBucket: true } : {}),
          // us-east-1 is the one region that must not be named here.
          ...(region && region !== 'us-east-1'
            ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
            : {}),
        }),
      );
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'BucketAlreadyOwnedByYou') return;
      if (name === 'BucketAlreadyExists') {
        throw new StorageError(
          `bucket "${this.bucket}" already exists and belongs to someone else; choose another name`,
          { cause: err },
        );
      }
      throw this.error(err, 'CreateBucket');
    }
  }

  async put(key: string, body: BodySource, options: PutOptions = {}): Promise<void> {
    const fullKey = this.fullKey(key);
    if (options.createOnly && this.capabilities.createOnly === 'best-effort') await this.refuseIfExists(key);
    const params = writeParams(this.options, options, key);
    if (body.size <= this.settings.multipartThreshold) {
      const data = await readExactly(await openBody(body, key), body.size, `upload of ${key}`);
      const checksum = checksumParams(data, this.uploadChecksum, options.sha256);
      const command = new PutObjectCommand({
        Bucket: this.bucket,
        Key: fullKey,
        Body: data,
        ContentLength: data.length,
        ...params,
        ...checksum,
        ...(options.createOnly && this.quirks.conditionalWrites ? { IfNoneMatch: '*' } : {}),
      });
      try {
        await this.client.send(command);
      } catch (err) {
        throw this.error(err, 'PutObject', key);
      }
      return;
    }
    await multipartUpload(
      {
        client: this.client,
        bucket: this.bucket,
        key: fullKey,
        displayKey: key,
        params,
        checksum: this.uploadChecksum,
        partSize: partSizeFor(body.size, this.settings.partSize),
        concurrency: this.settings.partConcurrency,
        createOnly: (options.createOnly ?? false) && this.quirks.conditionalWrites,
        expectedSize: body.size,
        mapError: (err, operation) => this.error(err, operation, key),
      },
      () => openBody(body, key),
    );
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const range = options.range;
    if (range) resolveRange(range, Number.MAX_SAFE_INTEGER, key);
    if (range?.length === 0) {
      await this.head(key);
      return Readable.from([]);
    }
    const rangeHeader =
      range === undefined
        ? undefined
        : `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`;
    try {
      const result = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          ...(rangeHeader ? { Range: rangeHeader } : {}),
        }),
      );
      // A connection that breaks mid-transfer errors the body stream: name it like any other failure.
      const body = result.Body as Readable;
      const out = new PassThrough();
      body.on('error', (err) => out.destroy(this.error(err, 'GetObject', key)));
      out.on('close', () => body.destroy());
      return body.pipe(out);
    } catch (err) {
      // A range starting at or past the end is empty, as in the other backends.
      if ((err as { name?: string }).name === 'InvalidRange') return Readable.from([]);
      throw this.error(err, 'GetObject', key);
    }
  }

  async head(key: string): Promise<ObjectHead> {
    try {
      const result = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      const archive = archiveStateFromHead(result, systemClock.now());
      return {
        key,
        size: result.ContentLength ?? 0,
        etag: result.ETag ?? '',
        lastModified: result.LastModified ?? new Date(0),
        ...(result.StorageClass ? { storageClass: result.StorageClass } : {}),
        ...(archive ? { archive } : {}),
        contentType: result.ContentType,
        metadata: result.Metadata ?? {},
        ...(result.ObjectLockRetainUntilDate ? { lockedUntil: result.ObjectLockRetainUntilDate } : {}),
      };
    } catch (err) {
      throw this.error(err, 'HeadObject', key);
    }
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    const root = this.prefix === '' ? '' : `${this.prefix}/`;
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: LIST_PAGE },
      {
        Bucket: this.bucket,
        Prefix: root + prefix,
        ...(options.startAfter === undefined ? {} : { StartAfter: root + options.startAfter }),
      },
    );
    try {
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          yield {
            key: object.Key!.slice(root.length),
            size: object.Size ?? 0,
            etag: object.ETag ?? '',
            lastModified: object.LastModified ?? new Date(0),
            ...(object.StorageClass ? { storageClass: object.StorageClass } : {}),
            // A listing names the class but not how a restore stands: head() says.
            ...(isArchiveClass(object.StorageClass) ? { archive: { restore: 'unknown' as const } } : {}),
          };
        }
      }
    } catch (err) {
      throw this.error(err, 'ListObjectsV2');
    }
  }

  async copy(sourceKey: string, key: string, options: CopyOptions = {}): Promise<void> {
    const requested = options.from ?? this;
    // Decorators around the source hide its type; look through them to decide on a server-side copy.
    const from = (requested as { innermost?: () => Backend }).innermost?.() ?? requested;
    if (!(from instanceof S3Backend) || from.storeIdentity !== this.storeIdentity) {
      return streamCopy(requested, sourceKey, this, key, { content: options.content ?? false });
    }
    const copySource = encodeCopySource(from.bucket, from.fullKey(sourceKey));
    const known = options.source;
    if (known === undefined || known.size > this.settings.multipartCopyThreshold) {
      const source = await from.head(sourceKey);
      if (source.size <= this.settings.multipartCopyThreshold)
        return this.copyObject(copySource, key, options.content ?? false);
      const put: PutOptions = { metadata: source.metadata, content: options.content ?? false };
      if (source.contentType !== undefined) put.contentType = source.contentType;
      return multipartCopy({
        client: this.client,
        bucket: this.bucket,
        key: this.fullKey(key),
        copySource,
        sourceEtag: source.etag,
        size: source.size,
        params: writeParams(this.options, put, key),
        partSize: this.settings.copyPartSize,
        concurrency: this.settings.partConcurrency,
        mapError: (err, operation) => this.error(err, operation, key),
      });
    }
    return this.copyObject(copySource, key, options.content ?? false);
  }

  private async copyObject(copySource: string, key: string, content: boolean): Promise<void> {
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          CopySource: copySource,
          MetadataDirective: 'COPY',
          ...writeParams(this.options, { content }, key),
        }),
      );
    } catch (err) {
      throw this.error(err, 'CopyObject', key);
    }
  }

  /** RestoreObject: 202 when a retrieval starts, 200 when a restored copy is only kept longer. */
  async requestRestore(key: string, request: RestoreRequest): Promise<RestoreRequestOutcome> {
    try {
      const result = await this.client.send(
        new RestoreObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          RestoreRequest: { Days: request.days, GlacierJobParameters: { Tier: request.tier } },
        }),
      );
      return result.$metadata.httpStatusCode === 200 ? 'restored' : 'started';
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'RestoreAlreadyInProgress') return 'in-progress';
      // S3's answer to a restore of an object that is not archived.
      if (name === 'InvalidObjectState') return 'not-archived';
      throw this.error(err, 'RestoreObject', key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    } catch (err) {
      const mapped = this.error(err, 'DeleteObject', key);
      if (mapped.code !== 'NOT_FOUND') throw mapped;
    }
  }

  async deleteMany(keys: Iterable<string>): Promise<DeleteManyResult> {
    const result: DeleteManyResult = { deleted: 0, failed: [] };
    let batch: string[] = [];
    for (const key of keys) {
      batch.push(key);
      if (batch.length === DELETE_BATCH) {
        await this.deleteBatch(batch, result);
        batch = [];
      }
    }
    if (batch.length > 0) await this.deleteBatch(batch, result);
    return result;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** The key in the bucket for a key relative to the repository root. */
  fullKey(key: string): string {
    validateKey(key);
    return joinKey(this.prefix, key);
  }

  private async deleteBatch(keys: string[], result: DeleteManyResult): Promise<void> {
    const byFullKey = new Map(keys.map((key) => [this.fullKey(key), key]));
    let response: DeleteObjectsCommandOutput;
    try {
      response = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: [...byFullKey.keys()].map((Key) => ({ Key })), Quiet: true },
        }),
      );
    } catch (err) {
      throw this.error(err, 'DeleteObjects');
    }
    const errors = response.Errors ?? [];
    for (const failure of errors) {
      const key = byFullKey.get(failure.Key ?? '') ?? failure.Key ?? '?';
      result.failed.push({
        key,
        error: new StorageError(
          `could not delete "${key}" in ${this.location}: ${failure.Code}: ${failure.Message}`,
        ),
      });
    }
    result.deleted += keys.length - errors.length;
  }

  private async refuseIfExists(key: string): Promise<void> {
    try {
      await this.head(key);
    } catch (err) {
      if ((err as TwinvaultError).code === 'NOT_FOUND') return;
      throw err;
    }
    throw this.error({ name: 'PreconditionFailed' }, 'PutObject', key);
  }

  private error(err: unknown, operation: string, key?: string): TwinvaultError {
    return mapS3Error(err, {
      operation,
      bucket: this.bucket,
      location: this.location,
      endpoint: this.endpointLabel,
      credentialSource: this.credentialSource,
      ...(key === undefined ? {} : { key }),
    });
  }
}

async function openBody(body: BodySource, key: string): Promise<AsyncIterable<Uint8Array>> {
  validateKey(key);
  return body.open();
}

/** CopySource is "bucket/key" URL-encoded, keeping the "/" separators readable. */
function encodeCopySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
