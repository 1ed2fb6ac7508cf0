import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import { DEFAULT_NOTIFICATIONS, type NotificationsConfig } from '../config/notifications-schema.js';
import { redactUrlPassword } from '../config/redact.js';
import { isTwinvaultError } from '../errors.js';
import type { AlertBook } from '../notify/alert-book.js';
import type { NoticeSubject } from '../notify/notice.js';
import type { Notifier } from '../notify/notifier.js';
import { checkReplicaLag, type LagView } from '../notify/replica-lag-alerts.js';
import { startCheckTimer } from '../util/check-timer.js';
import { type AlertedSource, type OverdueReporter, shellQuote, subjectOf } from './overdue.js';
import type { VerifyStatus } from './state.js';

export type { AlertedSource } from './overdue.js';

export interface BackupRun {
  started: Date;
  snapshot: string | undefined;
  skipped: Array<{ path: string; reason: string }>;
}

export interface WatchedReplicas {
  lag: LagView;
  urls(): string[];
}

const REPOSITORY: NoticeSubject = { kind: 'repository', name: 'repository' };
const STORAGE_MARK = 'storage-failing';
const failingMark = (source: string) => `failing:${source}`;

/**
 * Turns what the agent sees into alerts: backups failing or skipping files at once; overdue
 * backups, storage down too long and replicas lagging from a timer of its own, so they are told
 * even while a backup is stuck waiting on the network. Each problem is told once and its recovery
 * once (AlertBook); heartbeat channels are pinged after each success. Nothing here may throw into
 * the agent: every entry point is guarded.
 */
export class AgentAlerts {
  private settings: NotificationsConfig = DEFAULT_NOTIFICATIONS;
  private sources: AlertedSource[] = [];
  private repository = REPOSITORY;
  /** How a command the user should run starts: with the agent's --config, if it has one. */
  private cli = 'twinvault';
  private host = '';
  private timer: NodeJS.Timeout | undefined;
  private storageError: string | undefined;

  constructor(
    private readonly book: AlertBook,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly replicas: WatchedReplicas,
    private readonly overdue: OverdueReporter,
  ) {
    // Whether the storage answers is learnt anew: an outage before a restart says nothing now.
    book.clearMark(STORAGE_MARK);
  }

  configure(config: ResolvedConfig, sources: AlertedSource[], host: string): void {
    this.guard('configure', () => {
      this.host = host;
      this.settings = config.notifications;
      this.sources = sources;
      this.repository = { ...REPOSITORY, location: redactUrlPassword(config.repository.url) };
      this.cli = config.configFile ? `twinvault --config ${shellQuote(config.configFile)}` : 'twinvault';
      this.forgetRemovedSources();
      this.overdue.configure({
        sources,
        cli: this.cli,
        notifications: config.notifications,
        host: this.host,
      });
      this.restartTimer();
    });
  }

  /** Stops the timers and waits for the alert files to be written. */
  async stop(): Promise<void> {
    // A last look (replication is idle by now): a replica that caught up must not stay marked behind.
    this.check();
    this.stopTimer();
    await this.overdue.stop().catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'the overdue-backup watch did not stop cleanly');
    });
    await this.book.flushed();
  }

  backupSucceeded(source: AlertedSource, run: BackupRun): void {
    this.guard('backupSucceeded', () => {
      const now = this.clock.now();
      const subject = subjectOf(source);
      this.overdue.succeeded(source.name, now, run.snapshot);
      this.book.clearMark(failingMark(source.name));
      this.storageAnswered();
      const details = run.snapshot ? { snapshot: run.snapshot } : undefined;
      this.book.resolve('storage-unreachable', this.repository, now);
      this.book.resolve('backup-failed', subject, now, details);
      if (run.skipped.length === 0) this.book.resolve('backup-partial', subject, now, details);
      else this.skippedFiles(source, run, now);
      this.notifier.heartbeat(true, source.name);
    });
  }

  backupFailed(source: AlertedSource, err: unknown, attempts: number, retryAt: Date): void {
    this.guard('backupFailed', () => {
      const message = redactUrlPassword(err instanceof Error ? err.message : String(err));
      this.overdue.failed(source.name, message);
      if (isStorageOutage(err)) {
        // The storage, not the source: told once it has lasted storageUnreachableAfter (check()).
        this.book.mark(STORAGE_MARK, this.clock.now());
        this.storageError = message;
        this.check();
        return;
      }
      // Any other storage error proves the store answers.
      if (isTwinvaultError(err) && /^(STORAGE|ACCESS|BUCKET)/.test(err.code)) this.storageAnswered();
      const hint = isTwinvaultError(err) && err.hint ? `${err.hint.replace(/\.$/, '')}. ` : '';
      this.sourceFailed(source, message, hint, {
        failedAttempts: attempts,
        nextAttempt: retryAt.toISOString(),
      });
    });
  }

  verified(status: VerifyStatus): void {
    this.guard('verified', () => {
      const now = this.clock.now();
      const couldNotRun: NoticeSubject = { ...this.repository, name: 'verify' };
      if (status.error) {
        // Storage down is the storage alert's to tell, after its threshold.
        if (status.code === 'STORAGE_UNREACHABLE' || (status.code === 'STORAGE_FAILED' && status.retryable))
          return;
        this.book.raise({
          event: 'verify-problems',
          subject: couldNotRun,
          since: new Date(status.at),
          at: now,
          error: status.error,
          next: `run \`${this.cli} verify\` to see why it cannot run`,
          details: { problems: 0 },
        });
        return;
      }
      this.book.resolve('verify-problems', couldNotRun, now);
      if (status.ok) {
        this.book.resolve('verify-problems', this.repository, now);
        return;
      }
      this.book.raise({
        event: 'verify-problems',
        subject: this.repository,
        since: new Date(status.at),
        at: now,
        error: status.firstProblems?.[0],
        next:
          `run \`${this.cli} verify\` to see every problem and the snapshots it hurts; ` +
          `\`${this.cli} repair --from REPLICA_URL\` mends them from a replica`,
        details: {
          problems: status.problems,
          ...(status.firstProblems?.length ? { firstProblems: status.firstProblems } : {}),
        },
      });
    });
  }

  /** What the timer checks: a storage outage, lagging replicas (overdue backups: OverdueWatch). */
  check(): void {
    this.guard('check', () => {
      const now = this.clock.now();
      this.checkStorage(now);
      checkReplicaLag(
        this.book,
        this.replicas.lag,
        this.replicas.urls(),
        now,
        this.settings.replicationLagOver,
      );
    });
  }

  private checkStorage(now: Date): void {
    const since = this.book.markOf(STORAGE_MARK);
    if (!since || now.getTime() - since.getTime() <= this.settings.storageUnreachableAfter) return;
    const told = this.book.raise({
      event: 'storage-unreachable',
      subject: this.repository,
      since,
      at: now,
      error: this.storageError,
      next:
        `check the network, the endpoint and the credentials (\`${this.cli} snapshots\` tries them); ` +
        'nothing is lost meanwhile: changes are kept and backed up once it answers',
    });
    if (told) for (const source of this.sources) this.notifier.heartbeat(false, source.name);
  }

  private sourceFailed(
    source: AlertedSource,
    error: string,
    hint: string,
    details: { failedAttempts: number; nextAttempt: string },
  ): void {
    const now = this.clock.now();
    const told = this.book.raise({
      event: 'backup-failed',
      subject: subjectOf(source),
      since: this.book.mark(failingMark(source.name), now),
      at: now,
      error,
      next:
        `${hint}The agent retries by itself; to see the error first hand run ` +
        `\`${this.cli} backup ${shellQuote(source.path)}\``,
      details,
    });
    if (told) this.notifier.heartbeat(false, source.name);
  }

  private skippedFiles(source: AlertedSource, run: BackupRun, now: Date): void {
    this.book.raise({
      event: 'backup-partial',
      subject: subjectOf(source),
      since: run.started,
      at: now,
      error: `${run.skipped[0]!.path}: ${run.skipped[0]!.reason}`,
      next:
        'make the files readable by the user the agent runs as, or exclude them (sources[].exclude); ' +
        `\`${this.cli} status\` shows where the log lists them all`,
      details: {
        skippedFiles: run.skipped.length,
        firstSkipped: run.skipped.slice(0, 5).map((s) => `${s.path}: ${s.reason}`),
        ...(run.snapshot ? { snapshot: run.snapshot } : {}),
      },
    });
  }

  private storageAnswered(): void {
    this.book.clearMark(STORAGE_MARK);
    this.storageError = undefined;
  }

  /** Alerts and marks of sources taken out of the config are forgotten, not "recovered". */
  private forgetRemovedSources(): void {
    const names = new Set(this.sources.map((source) => source.name));
    this.book.forgetAllBut(names, ['backup-failed', 'backup-partial'], 'source', failingMark(''));
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private restartTimer(): void {
    this.stopTimer();
    // check() guards itself (every entry point does); the timer's guard is the second line.
    this.timer = startCheckTimer(this.settings.checkEvery, () => this.check(), this.log, 'alert check');
  }

  private guard(what: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.log.error({ err: (err as Error).message, in: what }, 'alerting failed; backups go on');
    }
  }
}

/** The store down or failing (not refusing): counted towards "storage-unreachable". */
function isStorageOutage(err: unknown): boolean {
  if (!isTwinvaultError(err)) return false;
  return err.code === 'STORAGE_UNREACHABLE' || (err.code === 'STORAGE_FAILED' && err.isRetryable);
}
