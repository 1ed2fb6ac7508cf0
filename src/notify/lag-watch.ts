import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { NotificationsConfig } from '../config/notifications-schema.js';
import { startCheckTimer } from '../util/check-timer.js';
import { AlertBook } from './alert-book.js';
import { Notifier } from './notifier.js';
import { checkReplicaLag, type LagView } from './replica-lag-alerts.js';

export interface LagWatchOptions {
  settings: NotificationsConfig;
  lag: LagView;
  /** The replicas watched (their URLs). */
  replicas: readonly string[];
  host: string;
  log: Logger;
  clock: Clock;
  /** Where raised alerts are kept across restarts. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The live replicator's alerts (`twinvault replicate --listen/--sqs`): a timer that raises
 * "replication-lag" for replicas behind too long and tells when they catch up.
 */
export class LagWatch {
  private constructor(
    private readonly notifier: Notifier,
    private readonly book: AlertBook,
    private readonly timer: NodeJS.Timeout,
  ) {}

  static async start(options: LagWatchOptions): Promise<LagWatch> {
    const notifier = new Notifier(options.settings.channels, {
      log: options.log,
      clock: options.clock,
      ...(options.env ? { env: options.env } : {}),
    });
    const book = await AlertBook.open(notifier, () => options.host, options.log, options.file);
    const timer = startCheckTimer(
      options.settings.checkEvery,
      () =>
        checkReplicaLag(
          book,
          options.lag,
          options.replicas,
          options.clock.now(),
          options.settings.replicationLagOver,
        ),
      options.log,
      'lag alert check',
    );
    return new LagWatch(notifier, book, timer);
  }

  /** Stops the timer; waits up to `waitMs` for notifications on their way. */
  async stop(waitMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    await this.notifier.idle(waitMs);
    await this.book.flushed();
  }
}
