import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { NotificationsConfig } from '../config/notifications-schema.js';
import type { ScheduleConfig } from '../config/schema.js';
import type { AlertBook } from '../notify/alert-book.js';
import type { NoticeSubject } from '../notify/notice.js';
import { startCheckTimer } from '../util/check-timer.js';
import { defaultOverdueAt } from './schedule.js';

export interface AlertedSource {
  name: string;
  path: string;
  schedule: ScheduleConfig;
  rpo: number | undefined;
}

export interface OverdueSettings {
  sources: AlertedSource[];
  /** How commands the user should run start ("twinvault --config FILE"). */
  cli: string;
  notifications: NotificationsConfig;
  host: string;
}

/** What the agent tells the dead man's switch, wherever it runs (here, or in its own process). */
export interface OverdueReporter {
  configure(settings: OverdueSettings): void;
  succeeded(source: string, at: Date, snapshot: string | undefined): void;
  failed(source: string, error: string): void;
  stop(): Promise<void>;
}

const successMark = (source: string) => `last-success:${source}`;

/**
 * The dead man's switch: "backup-overdue" when a source has had no successful backup for longer
 * than its RPO (default: two scheduled scans missed), checked on a timer of its own and told
 * once, its recovery once. The agent runs it in a child process (overdue-process.ts), so it
 * speaks up even when the agent is stuck, down to a frozen event loop.
 */
export class OverdueWatch implements OverdueReporter {
  private sources: AlertedSource[] = [];
  private cli = 'twinvault';
  private timer: NodeJS.Timeout | undefined;
  private readonly lastErrors = new Map<string, string>();

  constructor(
    private readonly book: AlertBook,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  configure({ sources, cli, notifications }: OverdueSettings): void {
    this.sources = sources;
    this.cli = cli;
    // A source never backed up is overdue counted from when the agent first watched it, even
    // across restarts (an agent crashing at every start must not look current).
    const now = this.clock.now();
    for (const source of sources) this.book.mark(successMark(source.name), now);
    const names = new Set(sources.map((source) => source.name));
    this.book.forgetAllBut(names, ['backup-overdue'], 'source', successMark(''));
    clearInterval(this.timer);
    this.timer = startCheckTimer(notifications.checkEvery, () => this.check(), this.log, 'overdue check');
  }

  /** A backup finished: its end, not its start, counts (one longer than the RPO is not overdue at once). */
  succeeded(source: string, at: Date, snapshot: string | undefined): void {
    this.lastErrors.delete(source);
    this.book.mark(successMark(source), at, true);
    const watched = this.sources.find((s) => s.name === source);
    if (watched)
      this.book.resolve('backup-overdue', subjectOf(watched), at, snapshot ? { snapshot } : undefined);
  }

  failed(source: string, error: string): void {
    this.lastErrors.set(source, error);
  }

  check(): void {
    const now = this.clock.now();
    for (const source of this.sources) {
      const last = this.book.markOf(successMark(source.name)) ?? now;
      const overdueAt =
        source.rpo === undefined
          ? defaultOverdueAt(source.schedule, last)
          : new Date(last.getTime() + source.rpo);
      if (now <= overdueAt) continue;
      this.book.raise({
        event: 'backup-overdue',
        subject: subjectOf(source),
        since: last,
        at: now,
        error: this.lastErrors.get(source.name),
        next:
          `check that the agent runs and what it says: \`${this.cli} status\` (and the log it names); ` +
          `back up by hand with \`${this.cli} backup ${shellQuote(source.path)}\``,
        details: { rpoSeconds: Math.round((overdueAt.getTime() - last.getTime()) / 1000) },
      });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.book.flushed();
  }
}

export function subjectOf(source: AlertedSource): NoticeSubject {
  return { kind: 'source', name: source.name, location: source.path };
}

/** A path as a shell reads it back, quoted only when it needs to be. */
export function shellQuote(path: string): string {
  return /^[\w@%+=:,./~-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
