import type { Readable } from 'node:stream';
import type {
  AbandonedWrites,
  Backend,
  BodySource,
  CopyOptions,
  DeleteManyResult,
  GetOptions,
  ListOptions,
  ObjectHead,
  ObjectInfo,
  PutOptions,
} from '../backend.js';

export type Operation =
  | 'check'
  | 'create'
  | 'put'
  | 'get'
  | 'head'
  | 'list'
  | 'copy'
  | 'delete'
  | 'deleteMany';

/**
 * Base of the backend decorators: forwards every call to `inner` through `around()`, so a
 * decorator (counting, fault injection, ...) overrides one method instead of ten.
 */
export class ForwardingBackend implements Backend {
  constructor(protected readonly inner: Backend) {}

  get location() {
    return this.inner.location;
  }
  get capabilities() {
    return this.inner.capabilities;
  }

  /** Runs one call to the inner backend; `key` is absent for calls not about one object. */
  protected around<T>(_operation: Operation, _key: string | undefined, call: () => Promise<T>): Promise<T> {
    return call();
  }

  check(): Promise<void> {
    return this.around('check', undefined, () => this.inner.check());
  }
  create(): Promise<void> {
    return this.around('create', undefined, () => this.inner.create());
  }
  put(key: string, body: BodySource, options?: PutOptions): Promise<void> {
    return this.around('put', key, () => this.inner.put(key, body, options));
  }
  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.around('get', key, () => this.inner.get(key, options));
  }
  head(key: string): Promise<ObjectHead> {
    return this.around('head', key, () => this.inner.head(key));
  }
  /** One around() per listing (its first page); later pages are forwarded as they come. */
  async *list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    const iterator = this.inner.list(prefix, options)[Symbol.asyncIterator]();
    try {
      let next = await this.around('list', prefix, () => iterator.next());
      while (!next.done) {
        yield next.value;
        next = await iterator.next();
      }
    } finally {
      // Stopping early must still let the inner listing clean up.
      await iterator.return?.();
    }
  }
  copy(sourceKey: string, key: string, options?: CopyOptions): Promise<void> {
    return this.around('copy', key, () => this.inner.copy(sourceKey, key, options));
  }
  delete(key: string): Promise<void> {
    return this.around('delete', key, () => this.inner.delete(key));
  }
  deleteMany(keys: Iterable<string>): Promise<DeleteManyResult> {
    return this.around('deleteMany', undefined, () => this.inner.deleteMany(keys));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  async removeAbandonedWrites(before: Date, options: { dryRun: boolean }): Promise<AbandonedWrites> {
    return (await this.inner.removeAbandonedWrites?.(before, options)) ?? { files: 0, bytes: 0 };
  }

  innermost(): Backend {
    return this.inner instanceof ForwardingBackend ? this.inner.innermost() : this.inner;
  }
}
