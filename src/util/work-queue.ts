/**
 * Runs tasks as they are added: at most `concurrency` at once and, past the first, no more than
 * `budget` of their combined weight (bytes held in memory, say). After a failure no new task
 * starts, and drain() rejects with the first failure.
 */
export class WorkQueue {
  private readonly waiting: Array<{ task: () => Promise<void>; weight: number }> = [];
  private next = 0;
  private running = 0;
  private load = 0;
  private failure: { error: unknown } | undefined;
  private drained: Array<() => void> = [];
  /** Called whenever a task has ended, before drain() can resolve: a producer may add more. */
  onTaskEnd: (() => void) | undefined;

  constructor(
    private readonly concurrency: number,
    private readonly budget = Number.POSITIVE_INFINITY,
  ) {}

  push(task: () => Promise<void>, weight = 0): void {
    if (this.failure) return;
    this.waiting.push({ task, weight });
    this.pump();
  }

  /** Fails the queue from outside (a producer's error): no new task starts; drain() rejects. */
  fail(error: unknown): void {
    this.failure ??= { error };
  }

  /** How many tasks wait to start. */
  get waitingCount(): number {
    return this.waiting.length - this.next;
  }

  /** Resolves once every task added so far has finished; rejects with the first failure. */
  async drain(): Promise<void> {
    if (!this.isIdle()) await new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.failure) throw this.failure.error;
  }

  private isIdle(): boolean {
    return this.running === 0 && (this.next === this.waiting.length || this.failure !== undefined);
  }

  private pump(): void {
    const limit = Math.max(1, Math.floor(this.concurrency) || 1);
    while (this.next < this.waiting.length && !this.failure && this.running < limit) {
      const { task, weight } = this.waiting[this.next]!;
      if (this.running > 0 && this.load + weight > this.budget) break;
      this.waiting[this.next++] = undefined as never; // let the finished closure go
      if (this.next >= 4096 && this.next * 2 >= this.waiting.length) {
        this.waiting.splice(0, this.next);
        this.next = 0;
      }
      this.running++;
      this.load += weight;
      task()
        .catch((error: unknown) => {
          this.failure ??= { error };
        })
        .finally(() => {
          this.running--;
          this.load -= weight;
          this.pump();
          this.onTaskEnd?.();
          if (this.isIdle()) for (const resolve of this.drained.splice(0)) resolve();
        });
    }
  }
}
