import { ForwardingBackend, type Operation } from '../wrap/forwarding.js';

interface Fault {
  operation: Operation;
  /** Only calls about keys this matches; every call when absent. */
  key: RegExp | undefined;
  remaining: number;
  /** Matching calls let through before the faults begin. */
  skip: number;
  error: () => Error;
}

/**
 * Injects failures into chosen calls (Kopia's blobtesting/faulty.go): "the next 2 puts of keys
 * under snapshots/ fail with this error". Drives the failure tests of every feature.
 */
export class FaultyBackend extends ForwardingBackend {
  private readonly faults: Fault[] = [];

  /** `after`: let that many matching calls through first ("the store dies after 30 uploads"). */
  failNext(
    operation: Operation,
    error: () => Error,
    options: { times?: number; key?: RegExp; after?: number } = {},
  ): this {
    this.faults.push({
      operation,
      key: options.key,
      remaining: options.times ?? 1,
      skip: options.after ?? 0,
      error,
    });
    return this;
  }

  protected override around<T>(
    operation: Operation,
    key: string | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        f.operation === operation &&
        (f.key === undefined || (key !== undefined && f.key.test(key))),
    );
    if (!fault) return call();
    if (fault.skip > 0) {
      fault.skip--;
      return call();
    }
    fault.remaining--;
    return Promise.reject(fault.error());
  }
}
