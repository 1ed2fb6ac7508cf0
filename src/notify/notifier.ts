import { isDeepStrictEqual } from 'node:util';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ChannelConfig } from '../config/notifications-schema.js';
import { redactUrlPassword } from '../config/redact.js';
import { isTwinvaultError, UsageError } from '../errors.js';
import { type Channel, channelWants } from './channels/channel.js';
import { makeChannel } from './channels/make-channel.js';
import type { Notice } from './notice.js';

export interface RetrySettings {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/** About ten minutes of trying: enough for a chat service's hiccup or a mail server's restart. */
export const DEFAULT_RETRY: RetrySettings = { retries: 6, minTimeoutMs: 5_000, maxTimeoutMs: 300_000 };

/** A channel that is down keeps at most this many notices; older ones are dropped (and logged). */
const QUEUE_LIMIT = 100;

export interface NotifierOptions {
  log: Logger;
  clock: Clock;
  env?: NodeJS.ProcessEnv;
  retry?: RetrySettings;
}

export interface TestResult {
  channel: string;
  type: ChannelConfig['type'];
  ok: boolean;
  error?: string;
}

interface Queued {
  config: ChannelConfig;
  channel: Channel;
  jobs: Array<{ what: string; run: () => Promise<void> }>;
  draining: Promise<void> | undefined;
}

/**
 * Delivers notices to the configured channels, in the background: notify() and heartbeat() return
 * at once, so a channel that is slow or down never delays a backup. Each channel has its own
 * queue (a problem's message goes before its recovery), retried with exponential backoff; what
 * fails for good is logged, and that is all.
 */
export class Notifier {
  private readonly queues = new Map<string, Queued>();

  constructor(
    channels: readonly ChannelConfig[],
    private readonly options: NotifierOptions,
  ) {
    this.configure(channels);
  }

  /** New channel settings (a config reload): unchanged channels keep their queue; removed ones drop theirs. */
  configure(channels: readonly ChannelConfig[]): void {
    const names = new Set(channels.map((c) => c.name));
    for (const [name, queued] of this.queues) {
      if (names.has(name)) continue;
      queued.jobs.length = 0;
      this.queues.delete(name);
    }
    for (const config of channels) {
      const queued = this.queues.get(config.name);
      if (queued && isDeepStrictEqual(queued.config, config)) continue;
      const channel = makeChannel(config, this.options.clock, this.options.env);
      if (queued) Object.assign(queued, { config, channel });
      else this.queues.set(config.name, { config, channel, jobs: [], draining: undefined });
    }
  }

  get channelCount(): number {
    return this.queues.size;
  }

  notify(notice: Notice): void {
    for (const queued of this.queues.values()) {
      if (!channelWants(queued.config, notice)) continue;
      this.enqueue(queued, `${notice.event} ${notice.state}`, () => queued.channel.send(notice));
    }
  }

  /** A ping to every heartbeat channel that covers the source. */
  heartbeat(ok: boolean, source: string): void {
    for (const queued of this.queues.values()) {
      const { config, channel } = queued;
      if (config.type !== 'heartbeat' || !channel.ping) continue;
      if (config.sources && !config.sources.includes(source)) continue;
      if (!ok && config.failUrl === undefined) continue;
      this.enqueue(queued, ok ? 'heartbeat' : 'heartbeat failure', () => channel.ping!(ok));
    }
  }

  /** Sends one test notice through each channel (or the named one) now, without retries. */
  async test(notice: Omit<Notice, 'details'>, only?: string): Promise<TestResult[]> {
    const chosen = [...this.queues.values()].filter((q) => only === undefined || q.config.name === only);
    if (chosen.length === 0) {
      throw new UsageError(
        only === undefined
          ? 'no notification channels are configured'
          : `no notification channel is named "${only}" (configured: ${[...this.queues.keys()].join(', ') || 'none'})`,
        {
          hint: 'channels are listed under "notifications": {"channels": [...]} in the config (docs/MONITORING.md)',
        },
      );
    }
    return Promise.all(
      chosen.map(async ({ config, channel }) => {
        try {
          await channel.send({ ...notice, details: { channel: config.name } });
          return { channel: config.name, type: config.type, ok: true };
        } catch (err) {
          return { channel: config.name, type: config.type, ok: false, error: messageOf(err) };
        }
      }),
    );
  }

  /**
   * Resolves once every queued notice has been delivered or given up on: true; or false when
   * `timeoutMs` passed first (a process stopping does not wait long for a channel that is down).
   */
  async idle(timeoutMs?: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = (async () => {
      for (;;) {
        const draining = [...this.queues.values()].map((q) => q.draining).filter((d) => d !== undefined);
        if (draining.length === 0) return true as const;
        await Promise.all(draining);
      }
    })();
    try {
      return await Promise.race([drained, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private enqueue(queued: Queued, what: string, run: () => Promise<void>): void {
    if (queued.jobs.length >= QUEUE_LIMIT) {
      // The oldest goes: after this long down, the newest say best how things stand now.
      const dropped = queued.jobs.shift()!;
      this.options.log.warn(
        { channel: queued.config.name, dropped: dropped.what },
        'notification channel is backed up; the oldest waiting notification is dropped',
      );
    }
    queued.jobs.push({ what, run });
    queued.draining ??= this.drain(queued).finally(() => {
      queued.draining = undefined;
    });
  }

  private async drain(queued: Queued): Promise<void> {
    const retry = this.options.retry ?? DEFAULT_RETRY;
    for (let job = queued.jobs.shift(); job; job = queued.jobs.shift()) {
      const log = this.options.log.child({ channel: queued.config.name, type: queued.config.type });
      try {
        await pRetry(job.run, {
          retries: retry.retries,
          minTimeout: retry.minTimeoutMs,
          maxTimeout: retry.maxTimeoutMs,
          factor: 2,
          randomize: true,
          unref: true,
          shouldRetry: ({ error }) => !isTwinvaultError(error) || error.isRetryable,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (retriesLeft > 0 && (!isTwinvaultError(error) || error.isRetryable))
              log.warn(
                { err: messageOf(error), attempt: attemptNumber },
                `cannot send ${job!.what}; trying again`,
              );
          },
        });
        log.info({ sent: job.what }, 'notification sent');
      } catch (err) {
        log.error(
          { err: messageOf(err), notification: job.what },
          'notification could not be sent; given up',
        );
      }
    }
  }
}

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const hint = isTwinvaultError(err) && err.hint ? ` (${err.hint})` : '';
  return redactUrlPassword(message) + hint;
}
