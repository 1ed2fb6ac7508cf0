import { isTwinvaultError } from '../../errors.js';
import type { Backend } from '../backend.js';
import { ForwardingBackend, type Operation } from './forwarding.js';

export interface RequestCount {
  operation: Operation;
  outcome: 'ok' | string;
  count: number;
}

/** Counts calls by operation and outcome (ok, or the error code), for metrics and benchmarks. */
export class CountingBackend extends ForwardingBackend {
  private readonly counts = new Map<string, number>();

  /** `onCount`: told of each request as it ends (the agent's metrics). */
  constructor(
    inner: Backend,
    private readonly onCount?: (operation: Operation, outcome: string) => void,
  ) {
    super(inner);
  }

  protected override async around<T>(
    operation: Operation,
    _key: string | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    try {
      const result = await call();
      this.add(operation, 'ok');
      return result;
    } catch (err) {
      this.add(operation, isTwinvaultError(err) ? err.code : 'INTERNAL');
      throw err;
    }
  }

  snapshot(): RequestCount[] {
    return [...this.counts].map(([label, count]) => {
      const [operation, outcome] = label.split(' ') as [Operation, string];
      return { operation, outcome, count };
    });
  }

  total(operation?: Operation): number {
    return this.snapshot()
      .filter((entry) => operation === undefined || entry.operation === operation)
      .reduce((sum, entry) => sum + entry.count, 0);
  }

  private add(operation: Operation, outcome: string): void {
    const label = `${operation} ${outcome}`;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    this.onCount?.(operation, outcome);
  }
}
