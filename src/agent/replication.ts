import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import type { Clock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import type { RepositoryConfig } from '../config/schema.js';
import { replicatePass } from '../replicate/pass.js';
import { PassRecords } from '../replicate/pass-record.js';
import { type BehindReplica, ReplicaLag } from '../replicate/replica-lag.js';
import { syncManifest } from '../replicate/sync-one.js';
import { type ReplicaTarget, replicaTargets } from '../replicate/targets.js';
import { manifestKey } from '../repository/layout.js';
import type { AgentMetrics } from './metrics.js';
import { describe as describeError } from './run-report.js';

export interface MadeSnapshot {
  repositoryId: string;
  host: string;
  stamp: string;
}

/** A replica gets a full pass at least this often, besides the single snapshots. */
const FULL_PASS_EVERY_MS = 3_600_000;
/** A replica that is behind is retried after backups that wrote nothing at most this often. */
const CATCH_UP_EVERY_MS = 15 * 60_000;

/** A snapshot to copy, or (only a repository id) a request for a catch-up pass. */
type Queued = MadeSnapshot | { repositoryId: string; host?: undefined; stamp?: undefined; targets: string[] };

/**
 * The agent's replication, in the background so backups never wait for it: each snapshot the
 * agent makes goes to every replica configured with afterBackup (its new objects, then its
 * manifest). A full pass runs instead the first time, after a failure or a pass with problems,
 * and hourly, which also checks the replica belongs to this repository, catches up on anything
 * missed (snapshots held back) and applies the delete policy. A failing replica is logged and
 * recorded, never raised.
 */
export class AfterBackupReplication {
  private repository: RepositoryConfig | undefined;
  private targets: ReplicaTarget[] = [];
  /** When each replica last had a complete full pass without problems. */
  private readonly lastFullPass = new Map<string, number>();
  private readonly waiting: Queued[] = [];
  private running: Promise<void> | undefined;
  /** Which replicas are behind (the lag alert and metric). */
  readonly lag: ReplicaLag;
  /** When each replica was last given a catch-up pass after a backup that wrote nothing. */
  private readonly lastCatchUp = new Map<string, number>();
  /** The agent's metrics, when it serves them. */
  metrics: AgentMetrics | undefined;

  constructor(
    private readonly stateFolder: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly open: (settings: RepositoryConfig) => Promise<Backend> = openBackend,
  ) {
    this.lag = new ReplicaLag(clock);
  }

  configure(config: ResolvedConfig): void {
    this.repository = config.repository;
    this.targets =
      config.replicas.length === 0 ? [] : replicaTargets(config).filter((target) => target.afterBackup);
    this.lastFullPass.clear();
    this.lag.keepOnly(new Set(this.targets.map((target) => target.url)));
  }

  /** The replicas missing something, since when (the replication lag), and their last error. */
  behind(): BehindReplica[] {
    return this.lag.list();
  }

  urls(): string[] {
    return this.targets.map((target) => target.url);
  }

  /**
   * After a backup that wrote nothing: a full pass for the replicas that are behind or were not
   * checked since the agent started, so a replica that was down catches up without waiting for
   * the next change; at most every CATCH_UP_EVERY_MS.
   */
  catchUp(repositoryId: string): void {
    const now = this.clock.now().getTime();
    const due = this.targets.filter(
      (target) =>
        !this.lastFullPass.has(target.url) &&
        now - (this.lastCatchUp.get(target.url) ?? 0) >= CATCH_UP_EVERY_MS,
    );
    if (due.length === 0) return;
    for (const target of due) this.lastCatchUp.set(target.url, now);
    this.enqueue({ repositoryId, targets: due.map((target) => target.url) });
  }

  /** Queues a snapshot for the replicas; returns at once. */
  afterBackup(made: MadeSnapshot): void {
    if (this.targets.length === 0) return;
    for (const target of this.targets) this.lag.behind(target.url);
    this.enqueue(made);
  }

  private enqueue(item: Queued): void {
    this.waiting.push(item);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once every queued snapshot has been dealt with. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Up to date, unless another snapshot is already waiting (it keeps the lag running). */
  private caughtUp(url: string): void {
    if (this.waiting.length === 0) this.lag.caughtUp(url);
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0 && this.repository) {
      const batch = this.waiting.splice(0);
      const repositoryId = batch.at(-1)!.repositoryId;
      let source: Backend | undefined;
      try {
        source = await this.open(this.repository);
        for (const target of this.targets) {
          // A catch-up pass is only for the replicas it names; the others have nothing to do.
          if (batch.every((item) => item.stamp === undefined && !item.targets.includes(target.url))) continue;
          await this.replicate(source, target, batch, repositoryId);
        }
      } catch (err) {
        this.log.error(
          { err: describe(err) },
          'replication could not open the repository; retried after the next backup',
        );
      } finally {
        await source?.close().catch(() => {});
      }
    }
  }

  private async replicate(source: Backend, target: ReplicaTarget, batch: Queued[], repositoryId: string) {
    const log = this.log.child({ replica: target.url });
    const records = new PassRecords(this.stateFolder, repositoryId);
    const started = performance.now();
    let destination: Backend | undefined;
    try {
      destination = await this.open(target.settings);
      const last = this.lastFullPass.get(target.url);
      if (last === undefined || this.clock.now().getTime() - last >= FULL_PASS_EVERY_MS) {
        const summary = await replicatePass({
          source,
          destination,
          deletes: target.deletes,
          concurrency: target.concurrency,
          clock: this.clock,
        });
        await records.passed(summary).catch(() => {});
        const pending = summary.objects.failed + summary.manifests.held;
        this.metrics?.replicaSucceeded(target.url, pending, this.clock.now());
        if (pending === 0) this.caughtUp(target.url);
        else this.lag.behind(target.url, `${pending} objects could not be copied (see the agent log)`);
        if (summary.problems.length === 0) this.lastFullPass.set(target.url, this.clock.now().getTime());
        log.info(
          {
            copied: summary.objects.copied,
            bytes: summary.objects.copiedBytes,
            deleted: summary.deletes.deleted,
            problems: summary.problems.length,
            ms: Math.round(performance.now() - started),
          },
          'replica brought up to date (full pass)',
        );
        for (const problem of summary.problems) log.warn({ key: problem.key }, problem.message);
        return;
      }
      for (const made of batch) {
        if (made.stamp === undefined) continue; // a catch-up request: the full pass above was it
        const outcome = await syncManifest(source, destination, manifestKey(made.host, made.stamp), {
          concurrency: target.concurrency,
        });
        log.info(
          { snapshot: `${made.host}/${made.stamp}`, outcome, ms: Math.round(performance.now() - started) },
          'snapshot replicated',
        );
      }
      this.metrics?.replicaSucceeded(target.url, 0, this.clock.now());
      this.caughtUp(target.url);
    } catch (err) {
      this.lastFullPass.delete(target.url);
      this.lag.behind(target.url, describe(err));
      this.metrics?.replicaFailed(target.url, err);
      log.error({ err: describe(err) }, 'replication failed; a full pass follows the next backup');
      await records
        .failed(destination?.location ?? target.url, this.clock.now(), describe(err))
        .catch(() => {});
    } finally {
      await destination?.close().catch(() => {});
    }
  }
}

function describe(err: unknown): string {
  return describeError(err).message;
}
