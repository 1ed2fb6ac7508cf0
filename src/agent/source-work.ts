import type { AgentConfig } from '../config/schema.js';

/** What one backup run of a source takes on: a full scan, or the paths that changed. */
export interface PendingRun {
  full: boolean;
  paths: string[];
}

/**
 * What is owed to one source: changed paths collected from the watcher, whether a full scan is
 * due, and when to try again after a failure. Pure bookkeeping over times in milliseconds, so the
 * agent's timing rules are tested without real time passing.
 */
export class SourceWork {
  private changed = new Set<string>();
  private firstChangeAt: number | undefined;
  private lastChangeAt: number | undefined;
  private fullScanDue = true; // at start: catches what changed while the agent was stopped
  private failures = 0;
  retryAt: number | undefined;

  constructor(public nextScanAt: number) {}

  get pendingChanges(): number {
    return this.changed.size;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  noteChange(path: string, now: number): void {
    this.changed.add(path);
    this.firstChangeAt ??= now;
    this.lastChangeAt = now;
  }

  /** A full scan is owed (the schedule fired, or the watcher lost events). */
  requestFullScan(): void {
    this.fullScanDue = true;
  }

  /** When a run should start: undefined while nothing is owed. */
  dueAt(settings: Pick<AgentConfig, 'quietPeriod' | 'maxDelay'>): number | undefined {
    let due: number | undefined = this.fullScanDue ? 0 : this.nextScanAt;
    if (this.lastChangeAt !== undefined && this.firstChangeAt !== undefined) {
      const quiet = Math.min(
        this.lastChangeAt + settings.quietPeriod,
        this.firstChangeAt + settings.maxDelay,
      );
      due = Math.min(due, quiet);
    }
    return this.retryAt === undefined ? due : Math.max(due, this.retryAt);
  }

  /** Starts a run: what is owed now moves into it; changes from here on wait for the next. */
  take(now: number): PendingRun {
    const run = { full: this.fullScanDue || now >= this.nextScanAt, paths: [...this.changed] };
    this.changed = new Set();
    this.firstChangeAt = undefined;
    this.lastChangeAt = undefined;
    this.fullScanDue = false;
    return run;
  }

  succeeded(run: PendingRun, nextScanAt: number | undefined): void {
    this.failures = 0;
    this.retryAt = undefined;
    if (run.full && nextScanAt !== undefined) this.nextScanAt = nextScanAt;
  }

  /** The run's work is owed again, after a wait that doubles with each failure in a row. */
  failed(run: PendingRun, now: number, retry: AgentConfig['retry']): void {
    for (const path of run.paths) this.changed.add(path);
    if (run.paths.length > 0) {
      this.firstChangeAt ??= now;
      this.lastChangeAt ??= now;
    }
    if (run.full) this.fullScanDue = true;
    this.failures++;
    this.retryAt = now + Math.min(retry.max, retry.min * 2 ** (this.failures - 1));
  }
}
