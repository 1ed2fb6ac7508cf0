import { basename, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Backend } from '../backend/backend.js';
import { backup } from '../backup/backup.js';
import { type Clock, systemClock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import type { RepositoryConfig, SourceConfig } from '../config/schema.js';
import { isTwinvaultError } from '../errors.js';
import { AlertBook } from '../notify/alert-book.js';
import { Notifier, type RetrySettings } from '../notify/notifier.js';
import type { Repository } from '../repository/repository.js';
import { collectGarbage } from '../util/heap-limit.js';
import { AgentAlerts, type AlertedSource } from './alerts.js';
import type { Logger } from './log.js';
import type { AgentMetrics } from './metrics.js';
import { type OverdueReporter, OverdueWatch } from './overdue.js';
import { AfterBackupReplication } from './replication.js';
import { AgentRetention } from './retention.js';
import { checkSourceFolder, describe, logSummary, outcomeOf } from './run-report.js';
import { describeSchedule, nextFullScan } from './schedule.js';
import { SerialTasks } from './serial-tasks.js';
import { SourceWork } from './source-work.js';
import type { AgentState, SourceStatus } from './state.js';
import { AgentVerify } from './verify.js';
import { Wakeup } from './wakeup.js';
import { watchFolder } from './watcher.js';

export interface OpenedRepository {
  repository: Repository;
  location: string;
  close(): Promise<void>;
}

export interface AgentOptions {
  /** Reads and validates the config (again on reload). */
  loadConfig(): Promise<ResolvedConfig>;
  openRepository(config: ResolvedConfig): Promise<OpenedRepository>;
  host(config: ResolvedConfig): string;
  stateFolder: string;
  /** Paths the watcher ignores: the agent's own files. */
  ownFiles: string[];
  logger: Logger;
  /** Called whenever the state changes (the CLI writes it to the state file). */
  saveState(state: AgentState): Promise<void>;
  clock?: Clock;
  /** Prometheus metrics of backups (`agent --metrics`). */
  metrics?: AgentMetrics;
  /** Opens the repository or a replica for replication (the registry by default). */
  openForReplication?: (settings: RepositoryConfig) => Promise<Backend>;
  /** Opens the repository for retention and verify (the registry by default). */
  openForMaintenance?: (settings: RepositoryConfig) => Promise<Backend>;
  /** What the agent of this config saved last time (its retention's last run). */
  previousState?: Partial<AgentState>;
  /** Where raised alerts are kept across restarts (none: in memory only). */
  alertsFile?: string;
  /** Environment for notification secrets ({"env": "NAME"}); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Backoff of failing notification channels (tests shorten it). */
  notifyRetry?: RetrySettings;
  /**
   * Starts the dead man's switch (the CLI: in a process of its own); by default it runs in this
   * process, on the agent's clock and alert book.
   */
  startOverdueWatch?: () => OverdueReporter;
}

interface WatchedSource {
  config: SourceConfig;
  name: string;
  work: SourceWork;
  status: SourceStatus;
  watcher: { close(): Promise<void> } | undefined;
}

/**
 * Keeps every configured source protected: a backup when the watcher reports changes (after a
 * quiet period, at most maxDelay late), a full scan at start and on each source's schedule, and
 * retries with backoff while the store fails, keeping all that is owed. One backup runs at a
 * time; stop() lets the running one finish (a backup abandoned midway is safe too, as its
 * manifest is written last).
 */
export class Agent {
  private config!: ResolvedConfig;
  /** Opened before the first backup (and again after a failure or a new repository setting). */
  private repo: OpenedRepository | undefined;
  private reopen = false;
  private starting: Promise<void> | undefined;
  /** State writes, one after another (the loop and a reload may both write). */
  private stateWrites: Promise<void> = Promise.resolve();
  private readonly sources = new Map<string, WatchedSource>();
  private readonly wakeup = new Wakeup();
  private stopping = false;
  private running: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly startedAt: Date;
  private readonly stopped: Promise<void>;
  private markStopped!: () => void;
  private readonly replication: AfterBackupReplication;
  private readonly retention: AgentRetention;
  private readonly verify: AgentVerify;
  private readonly notifier: Notifier;
  private alerts: AgentAlerts | undefined;

  constructor(private readonly options: AgentOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    this.replication = new AfterBackupReplication(
      options.stateFolder,
      this.log,
      this.clock,
      ...(options.openForReplication ? [options.openForReplication] : []),
    );
    this.replication.metrics = options.metrics;
    const open = options.openForMaintenance ? [options.openForMaintenance] : [];
    this.retention = new AgentRetention(options.stateFolder, this.log, this.clock, ...open);
    this.retention.restoreLastRun(options.previousState?.retention?.lastRun);
    this.verify = new AgentVerify(this.log, this.clock, ...open);
    this.verify.onChecked = (status) => this.alerts?.verified(status);
    // One after the other (retention first after a backup): a verify running while retention
    // forgets and prunes would report what went as damaged.
    const maintenance = new SerialTasks();
    this.retention.serialize = this.verify.serialize = (task) => maintenance.run(task);
    this.notifier = new Notifier([], {
      log: this.log,
      clock: this.clock,
      ...(options.env ? { env: options.env } : {}),
      ...(options.notifyRetry ? { retry: options.notifyRetry } : {}),
    });
    options.metrics?.reportReplicaLag(() => this.replication.behind(), this.clock);
    this.startedAt = this.clock.now();
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve;
    });
  }

  async start(): Promise<void> {
    const book = await AlertBook.open(
      this.notifier,
      () => this.options.host(this.config),
      this.log,
      this.options.alertsFile,
    );
    const overdue = this.startOverdueWatch(book);
    this.alerts = new AgentAlerts(book, this.notifier, this.clock, this.log, this.replication, overdue);
    this.starting = this.options.loadConfig().then((config) => this.apply(config));
    await this.starting;
    if (this.stopping) return;
    this.log.info({ sources: [...this.sources.values()].map((s) => s.config.path) }, 'agent started');
    this.running = this.loop();
  }

  /** Rereads the config; a bad one is reported and the one in force stays. */
  async reload(): Promise<void> {
    if (this.stopping) return;
    let config: ResolvedConfig;
    try {
      config = await this.options.loadConfig();
    } catch (err) {
      this.log.error({ err: describe(err) }, 'config reload failed; the previous config stays in force');
      return;
    }
    if (this.stopping) return;
    try {
      // Reopened before the next backup, never under a running one.
      if (!isDeepStrictEqual(config.repository, this.config.repository)) this.reopen = true;
      await this.apply(config);
      this.log.info({ sources: config.sources.length }, 'config reloaded');
    } catch (err) {
      this.log.error({ err: describe(err) }, 'config reload failed; the previous config stays in force');
    }
    this.wakeup.wake();
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.stopped;
    this.stopping = true;
    this.wakeup.wake();
    await this.starting?.catch(() => {}); // every watcher is subscribed before they are closed
    await this.running;
    await this.replication.idle();
    await this.retention.idle();
    await this.verify.idle();
    await this.alerts?.stop();
    if (!(await this.notifier.idle(NOTIFY_STOP_WAIT_MS)))
      this.log.warn('stopping with notifications still unsent (their channel is slow or down)');
    for (const source of this.sources.values()) await source.watcher?.close().catch(() => {});
    await this.repo?.close().catch(() => {});
    await this.saveState();
    this.log.info('agent stopped');
    this.markStopped();
  }

  /** The dead man's switch as the CLI runs it (its own process), or here if that cannot start. */
  private startOverdueWatch(book: AlertBook): OverdueReporter {
    try {
      if (this.options.startOverdueWatch) return this.options.startOverdueWatch();
    } catch (err) {
      this.log.error(
        { err: describe(err) },
        'cannot start the overdue-backup watch process; it runs in the agent',
      );
    }
    return new OverdueWatch(book, this.clock, this.log);
  }

  /** Resolves once stop() has finished. */
  get done(): Promise<void> {
    return this.stopped;
  }

  private async apply(config: ResolvedConfig): Promise<void> {
    const now = this.clock.now();
    const wanted = new Map(config.sources.map((source) => [resolve(source.path), source]));
    for (const [path, source] of this.sources) {
      if (wanted.has(path)) continue;
      await source.watcher?.close().catch(() => {});
      this.sources.delete(path);
      this.log.info({ source: source.name, path }, 'source no longer configured; not watched');
    }
    for (const [path, sourceConfig] of wanted) {
      const schedule = sourceConfig.schedule ?? config.agent.schedule;
      const existing = this.sources.get(path);
      if (existing) {
        // New rules, repository or host change what the next snapshot holds or builds on, not
        // only where files change: the next run scans in full.
        const sameBase =
          !this.config ||
          (isDeepStrictEqual(this.config.repository, config.repository) && this.config.host === config.host);
        if (!sameBase || !isDeepStrictEqual(existing.config, sourceConfig)) existing.work.requestFullScan();
        existing.config = sourceConfig;
        existing.name = sourceConfig.name ?? basename(path);
        existing.status.name = existing.name;
        if (existing.status.schedule !== describeSchedule(schedule)) {
          existing.work.nextScanAt = nextFullScan(schedule, now).getTime();
          existing.status.schedule = describeSchedule(schedule);
        }
        continue;
      }
      const name = sourceConfig.name ?? basename(path);
      const source: WatchedSource = {
        config: sourceConfig,
        name,
        work: new SourceWork(nextFullScan(schedule, now).getTime()),
        status: { name, path, schedule: describeSchedule(schedule), pendingChanges: 0 },
        watcher: undefined,
      };
      this.sources.set(path, source);
      if (!this.stopping) source.watcher = await this.watch(source);
    }
    this.config = config;
    this.replication.configure(config);
    this.retention.configure(config, this.options.host(config));
    this.verify.configure(config);
    this.notifier.configure(config.notifications.channels);
    this.alerts?.configure(
      config,
      [...this.sources.values()].map((source) => alertedSource(source, config)),
      this.options.host(config),
    );
    await this.saveState();
  }

  private async watch(source: WatchedSource) {
    const path = resolve(source.config.path);
    try {
      return await watchFolder(path, this.options.ownFiles, {
        changed: (paths) => {
          const now = this.clock.now().getTime();
          for (const changed of paths) source.work.noteChange(changed, now);
          this.log.debug({ source: source.name, paths: paths.length }, 'changes seen');
          this.wakeup.wake();
        },
        lost: (error) => {
          this.log.warn({ source: source.name, err: error.message }, 'watcher lost events; full scan owed');
          source.work.requestFullScan();
          this.wakeup.wake();
        },
      });
    } catch (err) {
      // A missing folder is reported by the backup (and retried); scheduled scans still run.
      this.log.warn({ source: source.name, path, err: describe(err) }, 'cannot watch source folder');
      return undefined;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const now = this.clock.now().getTime();
      let next: { source: WatchedSource; at: number } | undefined;
      for (const source of this.sources.values()) {
        const at = source.work.dueAt(this.config.agent);
        if (at !== undefined && (!next || at < next.at)) next = { source, at };
      }
      if (next && next.at <= now) {
        await this.runBackup(next.source);
        continue;
      }
      await this.saveState();
      await this.wakeup.wait(next ? next.at - now : 3_600_000);
    }
  }

  private async runBackup(source: WatchedSource): Promise<void> {
    const run = source.work.take(this.clock.now().getTime());
    // A source that has vanished and come back is watched again.
    source.watcher ??= await this.watch(source);
    const started = this.clock.now();
    source.status.running = { since: started.toISOString(), full: run.full, changes: run.paths.length };
    await this.saveState();
    const log = this.log.child({ source: source.name });
    log.info({ path: source.config.path, full: run.full, changes: run.paths.length }, 'backup started');
    try {
      // An unmounted disk or a deleted folder would "succeed" as an empty snapshot, which would
      // then be the parent of the next one and could push good ones out of retention.
      await checkSourceFolder(source.config.path);
      const repo = await this.openedRepository();
      const summary = await backup({
        repository: repo.repository,
        sources: [source.config],
        host: this.options.host(this.config),
        stateFolder: this.options.stateFolder,
        skipIfUnchanged: true,
        ...(source.status.lastSuccess?.snapshot ? { parentHints: [source.status.lastSuccess.snapshot] } : {}),
        // Between full scans, only what the watcher reported is looked at.
        ...(run.full ? {} : { changedPaths: run.paths }),
        clock: this.clock,
      });
      const schedule = source.config.schedule ?? this.config.agent.schedule;
      source.work.succeeded(run, nextFullScan(schedule, started).getTime());
      logSummary(log, summary);
      this.log.debug({ repository: repo.location }, 'backup stored');
      source.status.lastRun = outcomeOf(summary, started, this.clock.now());
      this.options.metrics?.backupSucceeded(
        source.name,
        summary,
        this.clock.now().getTime() - started.getTime(),
        this.clock.now(),
      );
      source.status.lastSuccess = source.status.lastRun;
      this.alerts?.backupSucceeded(alertedSource(source, this.config), {
        started,
        snapshot: summary.written ? `${summary.host}/${summary.stamp}` : source.status.lastSuccess.snapshot,
        skipped: summary.skipped,
      });
      this.retention.afterBackup(repo.repository.config.id);
      this.verify.afterBackup();
      if (summary.written) {
        this.replication.afterBackup({
          repositoryId: repo.repository.config.id,
          host: summary.host,
          stamp: summary.stamp,
        });
      } else this.replication.catchUp(repo.repository.config.id);
    } catch (err) {
      if (isTwinvaultError(err) && err.code.startsWith('STORAGE')) this.reopen = true;
      source.work.failed(run, this.clock.now().getTime(), this.config.agent.retry);
      const retryAt = new Date(source.work.retryAt!).toISOString();
      log.error(
        { err: describe(err), failures: source.work.consecutiveFailures, retryAt },
        'backup failed; its changes are kept and retried',
      );
      source.status.lastRun = {
        at: started.toISOString(),
        outcome: 'failed',
        error: describe(err).message,
        durationMs: this.clock.now().getTime() - started.getTime(),
      };
      source.status.lastError = { at: started.toISOString(), message: describe(err).message };
      this.options.metrics?.backupFailed(source.name, err, this.clock.now().getTime() - started.getTime());
      this.alerts?.backupFailed(
        alertedSource(source, this.config),
        err,
        source.work.consecutiveFailures,
        new Date(source.work.retryAt!),
      );
    } finally {
      delete source.status.running;
      await this.saveState();
      collectGarbage();
    }
  }

  private async openedRepository(): Promise<OpenedRepository> {
    if (this.reopen) {
      this.reopen = false;
      await this.repo?.close().catch(() => {});
      this.repo = undefined;
    }
    this.repo ??= await this.options.openRepository(this.config);
    return this.repo;
  }

  private async saveState(): Promise<void> {
    const sources = [...this.sources.values()].map((source) => {
      const due = source.work.dueAt(this.config?.agent ?? { quietPeriod: 0, maxDelay: 0 });
      return {
        ...source.status,
        pendingChanges: source.work.pendingChanges,
        nextScanAt: new Date(source.work.nextScanAt).toISOString(),
        ...(due !== undefined ? { nextRunAt: new Date(due).toISOString() } : {}),
        ...(source.work.retryAt !== undefined
          ? { retryAt: new Date(source.work.retryAt).toISOString() }
          : {}),
      };
    });
    const state: AgentState = {
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      updatedAt: this.clock.now().toISOString(),
      configFile: this.config?.configFile,
      repository: this.repo?.location,
      stopping: this.stopping,
      sources,
      ...(this.verify.last ? { verify: this.verify.last } : {}),
      ...(this.retention.lastRunAt ? { retention: { lastRun: this.retention.lastRunAt } } : {}),
    };
    const write = this.stateWrites.then(() =>
      this.options.saveState(state).catch((err: unknown) => {
        this.log.warn({ err: describe(err) }, 'cannot write the agent state file');
      }),
    );
    this.stateWrites = write;
    await write;
  }
}

/** Notifications still unsent at stop are waited for this long. */
const NOTIFY_STOP_WAIT_MS = 5_000;

function alertedSource(source: WatchedSource, config: ResolvedConfig): AlertedSource {
  return {
    name: source.name,
    path: source.config.path,
    schedule: source.config.schedule ?? config.agent.schedule,
    rpo: source.config.rpo,
  };
}
