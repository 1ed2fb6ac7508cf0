import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Backend } from '../../backend/backend.js';
import { openBackend } from '../../backend/registry.js';
import type { Clock } from '../../clock.js';
import { CONFIG_KEY } from '../../repository/layout.js';
import { readRepoConfig } from '../../repository/repo-config.js';
import { inspectDestination } from '../destination.js';
import type { PassRecords } from '../pass-record.js';
import type { ReplicaLag } from '../replica-lag.js';
import { type ReplicaOutcome, replicateToAll } from '../replicate.js';
import type { ReplicaTarget } from '../targets.js';
import { ObjectSync, type SourceScope, type SyncResult } from './object-sync.js';
import type { ParsedEvents } from './s3-events.js';

/** Hourly, on the hour, as the scheduled rule of the system this project grew from. */
export const DEFAULT_PASS_SCHEDULE = '0 * * * *';

export interface LiveReplicationOptions {
  source: Backend;
  scope: SourceScope;
  targets: readonly ReplicaTarget[];
  clock: Clock;
  log: Logger;
  records?: PassRecords;
  /** Cron expression of the reconciling full passes. */
  schedule?: string;
  /** Opens a replica (the registry by default; tests wrap it). */
  open?: (target: ReplicaTarget) => Promise<Backend>;
  /** Told which replicas fall behind and catch up (the lag alert and metric). */
  lag?: ReplicaLag;
}

/**
 * Live replication: objects named by events are copied at once; a full pass at start and on a
 * schedule reconciles whatever events were missed (and applies delete policies). Event sources
 * (the webhook, an SQS queue) hand what they receive to handle().
 */
export class LiveReplication {
  private destinations: Backend[] = [];
  private sync: ObjectSync | undefined;
  private cron: Cron | undefined;
  private running: Promise<ReplicaOutcome[]> | undefined;
  private readonly handling = new Set<Promise<SyncResult>>();

  constructor(private readonly options: LiveReplicationOptions) {}

  /** Checks every replica belongs to this repository (making empty ones replicas), then starts. */
  async start(): Promise<void> {
    const { source, log } = this.options;
    const open = this.options.open ?? ((target: ReplicaTarget) => openBackend(target.settings));
    const sourceConfig = await readRepoConfig(source);
    for (const target of this.options.targets) {
      let destination: Backend | undefined;
      try {
        destination = await open(target);
        const state = await inspectDestination(source, sourceConfig, destination);
        if (state.kind === 'empty') {
          if (state.bucketMissing) await destination.create();
          await destination.copy(CONFIG_KEY, CONFIG_KEY, { from: source });
        }
        this.destinations.push(destination);
      } catch (err) {
        // One replica that cannot be used does not hold the others back; full passes retry it.
        await destination?.close().catch(() => {});
        log.error({ replica: target.url, err: (err as Error).message }, 'replica left out of live copies');
      }
    }
    this.sync = new ObjectSync(source, this.options.scope, this.destinations, log);
    this.cron = new Cron(this.options.schedule ?? DEFAULT_PASS_SCHEDULE, { protect: true }, () => {
      void this.fullPass();
    });
    log.info(
      { replicas: this.destinations.map((d) => d.location), nextPass: this.cron.nextRun()?.toISOString() },
      'live replication started; a full pass runs now and on schedule',
    );
    void this.fullPass();
  }

  /** Copies the objects a notification names. Rejects if any could not be copied (send it again). */
  async handle(parsed: ParsedEvents): Promise<SyncResult> {
    if (!this.sync) throw new Error('live replication is not started');
    for (const label of parsed.ignored)
      this.options.log.debug({ event: label }, 'ignored a record that is no object event');
    try {
      return await this.sync.handle(parsed.events);
    } catch (err) {
      // Which replica missed it is in the log; each is behind until a full pass finds it complete.
      for (const target of this.options.targets) this.options.lag?.behind(target.url, (err as Error).message);
      throw err;
    }
  }

  /** A full pass to every replica; while one runs, asking again joins it. */
  fullPass(): Promise<ReplicaOutcome[]> {
    this.running ??= this.runPass()
      .catch((err: unknown) => {
        this.options.log.error({ err: (err as Error).message }, 'full pass failed; the next one retries');
        return [];
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Lets the copies under way and a running pass finish, then releases the replicas. */
  async stop(): Promise<void> {
    this.cron?.stop();
    await Promise.allSettled([...this.handling]);
    await this.running;
    await Promise.all(this.destinations.map((destination) => destination.close()));
    this.destinations = [];
  }

  private async runPass(): Promise<ReplicaOutcome[]> {
    const { log } = this.options;
    const outcomes = await replicateToAll(this.options.source, this.options.targets, {
      clock: this.options.clock,
      ...(this.options.records ? { records: this.options.records } : {}),
      ...(this.options.open ? { open: this.options.open } : {}),
    });
    for (const outcome of outcomes) {
      this.noteLag(outcome);
      if (outcome.error) {
        log.error(
          { replica: outcome.location, err: outcome.error.message },
          'full pass failed; the next one retries',
        );
      } else {
        const { objects, manifests, deletes, problems } = outcome.summary!;
        log.info(
          {
            replica: outcome.location,
            copied: objects.copied,
            bytes: objects.copiedBytes,
            manifests: manifests.copied,
            deleted: deletes.deleted,
            problems: problems.length,
          },
          'full pass done',
        );
        for (const problem of problems)
          log.warn({ replica: outcome.location, key: problem.key }, problem.message);
      }
    }
    return outcomes;
  }

  private noteLag(outcome: ReplicaOutcome): void {
    const lag = this.options.lag;
    if (!lag) return;
    const url = outcome.target.url;
    if (outcome.error) {
      lag.behind(url, outcome.error.message);
      return;
    }
    const { objects, manifests, resumeAfter } = outcome.summary!;
    const pending = objects.failed + manifests.held;
    if (pending > 0) lag.behind(url, `${pending} objects could not be copied (see the log)`);
    else if (resumeAfter === undefined) lag.caughtUp(url);
  }
}
