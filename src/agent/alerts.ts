import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import { DEFAULT_NOTIFICATIONS, type NotificationsConfig } from '../config/notifications-schema.js';
import { redactUrlPassword } from '../config/redact.js';
import type { ScheduleConfig } from '../config/schema.js';
import { isTwinvaultError } from '../errors.js';
import type { AlertBook } from '../notify/alert-book.js';
import type { NoticeSubject } from '../notify/notice.js';
import type { Notifier } from '../notify/notifier.js';
import { checkReplicaLag } from '../notify/replica-lag-alerts.js';
import type { BehindReplica } from '../replicate/replica-lag.js';
import { scheduleInterval } from './schedule.js';
import type { VerifyStatus } from './state.js';

export interface AlertedSource {
  name: string;
  path: string;
  schedule: ScheduleConfig;
  rpo: number | undefined;
}

export interface BackupRun {
  started: Date;
  snapshot: string | undefined;
  skipped: Array<{ path: string; reason: string }>;
}

/** Storage failing (not refusing): these count towards "storage-unreachable", not "backup-failed". */
const STORAGE_OUTAGE_CODES: ReadonlySet<string> = new Set(['STORAGE_UNREACHABLE', 'STORAGE_FAILED']);

const REPOSITORY: NoticeSubject = { kind: 'repository', name: 'repository' };

/**
 * Turns what the agent sees into alerts: backups failing or skipping files at once; overdue
 * backups, storage down too long and replicas lagging from a timer of its own, so they are told
 * even while the backup loop is stuck (a hung mount, a stalled connection). Each problem is told
 * once and its recovery once (AlertBook); the heartbeat channels are pinged after each success.
 */
export class AgentAlerts {
  private settings: NotificationsConfig = DEFAULT_NOTIFICATIONS;
  private sources: AlertedSource[] = [];
  private repository = REPOSITORY;
  private timer: NodeJS.Timeout | undefined;
  private readonly lastErrors = new Map<string, string>();
  private storageError: string | undefined;

  constructor(
    private readonly book: AlertBook,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly replicasBehind: () => BehindReplica[],
  ) {}

  configure(config: ResolvedConfig, sources: AlertedSource[]): void {
    this.settings = config.notifications;
    this.notifier.configure(config.notifications.channels);
    this.sources = sources;
    this.repository = { ...REPOSITORY, location: redactUrlPassword(config.repository.url) };
    // A source never backed up is overdue counted from when the agent first watched it, even
    // across restarts (an agent crashing at every start must not look current).
    const now = this.clock.now();
    for (const source of sources) this.book.mark(successMark(source.name), now);
    this.restartTimer();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  backupSucceeded(source: AlertedSource, run: BackupRun): void {
    const now = this.clock.now();
    const subject = subjectOf(source);
    this.lastErrors.delete(source.name);
    // The finish, not the start: a backup that took longer than the RPO must not be overdue at once.
    this.book.mark(successMark(source.name), now, true);
    this.book.clearMark(failingMark(source.name));
    this.book.clearMark(STORAGE_MARK);
    this.storageError = undefined;
    const details = run.snapshot ? { snapshot: run.snapshot } : undefined;
    this.book.resolve('storage-unreachable', this.repository, now);
    this.book.resolve('backup-failed', subject, now, details);
    this.book.resolve('backup-overdue', subject, now, details);
    if (run.skipped.length === 0) this.book.resolve('backup-partial', subject, now, details);
    else {
      this.book.raise({
        event: 'backup-partial',
        subject,
        since: run.started,
        at: now,
        error: `${run.skipped[0]!.path}: ${run.skipped[0]!.reason}`,
        next:
          'make the files readable by the user the agent runs as, or exclude them (sources[].exclude); ' +
          '`twinvault status` shows where the log lists them all',
        details: {
          skippedFiles: run.skipped.length,
          firstSkipped: run.skipped.slice(0, 5).map((s) => `${s.path}: ${s.reason}`),
          ...(run.snapshot ? { snapshot: run.snapshot } : {}),
        },
      });
    }
    this.notifier.heartbeat(true, source.name);
  }

  backupFailed(source: AlertedSource, err: unknown, attempts: number, retryAt: Date): void {
    const now = this.clock.now();
    const message = redactUrlPassword(err instanceof Error ? err.message : String(err));
    this.lastErrors.set(source.name, message);
    if (isTwinvaultError(err) && STORAGE_OUTAGE_CODES.has(err.code)) {
      // The storage, not the source: told once it has lasted storageUnreachableAfter (check()).
      this.book.mark(STORAGE_MARK, now);
      this.storageError = message;
      this.check();
      return;
    }
    const since = this.book.mark(failingMark(source.name), now);
    if (!this.book.isRaised('backup-failed', subjectOf(source))) this.notifier.heartbeat(false, source.name);
    this.book.raise({
      event: 'backup-failed',
      subject: subjectOf(source),
      since,
      at: now,
      error: message,
      next:
        (isTwinvaultError(err) && err.hint ? `${err.hint}. ` : '') +
        `The agent retries by itself; to see the error first hand run \`twinvault backup ${source.path}\`.`,
      details: { failedAttempts: attempts, nextAttempt: retryAt.toISOString() },
    });
  }

  verified(status: VerifyStatus): void {
    const now = this.clock.now();
    if (status.ok) {
      this.book.resolve('verify-problems', this.repository, now);
      return;
    }
    this.book.raise({
      event: 'verify-problems',
      subject: this.repository,
      since: new Date(status.at),
      at: now,
      error: status.error ?? status.firstProblems?.[0],
      next:
        status.problems > 0
          ? 'run `twinvault verify` to see every problem and the snapshots it hurts; ' +
            '`twinvault repair --from REPLICA_URL` mends them from a replica'
          : 'run `twinvault verify` to see why it cannot run',
      details: {
        problems: status.problems,
        ...(status.firstProblems?.length ? { firstProblems: status.firstProblems } : {}),
      },
    });
  }

  /** What the timer checks: overdue backups, a storage outage, lagging replicas. */
  check(): void {
    const now = this.clock.now();
    for (const source of this.sources) {
      const rpo = source.rpo ?? 2 * scheduleInterval(source.schedule, now);
      const last = this.book.markOf(successMark(source.name)) ?? now;
      if (now.getTime() - last.getTime() <= rpo) continue;
      this.book.raise({
        event: 'backup-overdue',
        subject: subjectOf(source),
        since: last,
        at: now,
        error: this.lastErrors.get(source.name),
        next:
          'check that the agent runs and what it says: `twinvault status` (and the log it names); ' +
          `back up by hand with \`twinvault backup ${source.path}\``,
        details: { rpoSeconds: Math.round(rpo / 1000) },
      });
    }
    const storageSince = this.book.markOf(STORAGE_MARK);
    if (storageSince && now.getTime() - storageSince.getTime() > this.settings.storageUnreachableAfter) {
      this.book.raise({
        event: 'storage-unreachable',
        subject: this.repository,
        since: storageSince,
        at: now,
        error: this.storageError,
        next:
          'check the network, the endpoint and the credentials (`twinvault snapshots` tries them); ' +
          'nothing is lost meanwhile: changes are kept and backed up once it answers',
      });
    }
    checkReplicaLag(this.book, this.replicasBehind(), now, this.settings.replicationLagOver);
  }

  private restartTimer(): void {
    this.stop();
    this.timer = setInterval(() => {
      try {
        this.check();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'alert check failed');
      }
    }, this.settings.checkEvery);
    this.timer.unref();
  }
}

const STORAGE_MARK = 'storage-failing';
const successMark = (source: string) => `last-success:${source}`;
const failingMark = (source: string) => `failing:${source}`;

function subjectOf(source: AlertedSource): NoticeSubject {
  return { kind: 'source', name: source.name, location: source.path };
}
