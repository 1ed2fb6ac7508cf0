import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import type { Clock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import { isTwinvaultError } from '../errors.js';
import { replicatePass } from '../replicate/pass.js';
import { PassRecords } from '../replicate/pass-record.js';
import { syncManifest } from '../replicate/sync-one.js';
import { type ReplicaTarget, replicaTargets } from '../replicate/targets.js';
import { manifestKey } from '../repository/layout.js';

export interface MadeSnapshot {
  repository: Backend;
  repositoryId: string;
  host: string;
  stamp: string;
}

/**
 * The agent's replication: right after each snapshot it makes, the snapshot goes to every
 * replica configured with afterBackup (its new objects, then its manifest). The first time, and
 * after a failure, a full pass runs instead, which also checks the replica belongs to this
 * repository and catches up on anything missed. A failing replica never fails the backup.
 */
export class AfterBackupReplication {
  private targets: ReplicaTarget[] = [];
  /** Replicas that need a full pass before single snapshots can be trusted to be enough. */
  private readonly owed = new Set<string>();

  constructor(
    private readonly stateFolder: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly open: (target: ReplicaTarget) => Promise<Backend> = (target) =>
      openBackend(target.settings),
  ) {}

  configure(config: ResolvedConfig): void {
    this.targets =
      config.replicas.length === 0 ? [] : replicaTargets(config).filter((target) => target.afterBackup);
    this.owed.clear();
    for (const target of this.targets) this.owed.add(target.url);
  }

  async afterBackup(made: MadeSnapshot): Promise<void> {
    const records = new PassRecords(this.stateFolder, made.repositoryId);
    for (const target of this.targets) {
      const log = this.log.child({ replica: target.url });
      let destination: Backend | undefined;
      const started = performance.now();
      try {
        destination = await this.open(target);
        if (this.owed.has(target.url)) {
          const summary = await replicatePass({
            source: made.repository,
            destination,
            deletes: target.deletes,
            concurrency: target.concurrency,
            clock: this.clock,
          });
          await records.passed(summary);
          this.owed.delete(target.url);
          log.info(
            {
              copied: summary.objects.copied,
              bytes: summary.objects.copiedBytes,
              problems: summary.problems.length,
              ms: Math.round(performance.now() - started),
            },
            'replica brought up to date (full pass)',
          );
        } else {
          const key = manifestKey(made.host, made.stamp);
          const outcome = await syncManifest(made.repository, destination, key, target.concurrency);
          log.info(
            { snapshot: `${made.host}/${made.stamp}`, outcome, ms: Math.round(performance.now() - started) },
            'snapshot replicated',
          );
        }
      } catch (err) {
        this.owed.add(target.url);
        const message = isTwinvaultError(err) ? err.message : String(err);
        log.error({ err: message }, 'replication failed; the next backup tries again with a full pass');
        await records.failed(destination?.location ?? target.url, this.clock.now(), message).catch(() => {});
      } finally {
        await destination?.close();
      }
    }
  }
}
