import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import type { Clock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import type { RepositoryConfig } from '../config/schema.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { configuredPolicies } from '../retention/configured-policy.js';
import { forget } from '../retention/forget.js';
import type { PolicyChoice } from '../retention/policy.js';
import { prune } from '../retention/prune.js';

/**
 * The agent's retention: after a backup, once per `retention.every` (default daily), the
 * configured policies are applied (forget), then unneeded objects deleted (prune, unless turned
 * off). In the background, so backups go on; a failure is logged and retried next time. When it
 * last ran to the end is kept in the agent's state, so a restart does not run it again early.
 */
export class AgentRetention {
  private policy: PolicyChoice | undefined;
  private settings: RepositoryConfig | undefined;
  private everyMs = 86_400_000;
  private prune = true;
  private host: string | undefined;
  private lastRun: number | undefined;
  /** When a run last ended well (kept across restarts in the agent's state). */
  private lastCompleted: number | undefined;
  private running: Promise<void> | undefined;
  private prices: Partial<Record<string, number>> = {};
  /** Runs the work; the agent passes its queue, so retention and verify never overlap. */
  serialize: (task: () => Promise<void>) => Promise<void> = (task) => task();

  constructor(
    private readonly stateFolder: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly open: (settings: RepositoryConfig) => Promise<Backend> = openBackend,
  ) {}

  /** `host`: this machine's name in snapshots; only its own snapshots are forgotten. */
  configure(config: ResolvedConfig, host?: string): void {
    this.host = host;
    this.policy = configuredPolicies(config);
    this.settings = config.repository;
    this.prices = config.prices;
    const intervals = [config.retention, ...config.sources.map((s) => s.retention)].flatMap((r) =>
      r ? [r.every] : [],
    );
    this.everyMs = intervals.length > 0 ? Math.min(...intervals) : 86_400_000;
    // The top-level setting decides; without one, prune unless every source's policy says not to.
    const sourcePolicies = config.sources.flatMap((s) => (s.retention ? [s.retention] : []));
    this.prune = config.retention ? config.retention.prune : sourcePolicies.some((r) => r.prune);
  }

  /** The end of the last complete run, from the agent's previous state; ignored when not a past time. */
  restoreLastRun(at: unknown): void {
    const time = typeof at === 'string' ? Date.parse(at) : Number.NaN;
    if (Number.isNaN(time) || time > this.clock.now().getTime()) return;
    this.lastRun = this.lastCompleted = time;
  }

  get lastRunAt(): string | undefined {
    return this.lastCompleted === undefined ? undefined : new Date(this.lastCompleted).toISOString();
  }

  /** Starts a retention run when one is due; returns at once. */
  afterBackup(repositoryId: string): void {
    if (!this.policy || this.running) return;
    const now = this.clock.now().getTime();
    if (this.lastRun !== undefined && now - this.lastRun < this.everyMs) return;
    this.lastRun = now;
    this.running = this.serialize(() => this.apply(repositoryId)).finally(() => {
      this.running = undefined;
    });
  }

  async idle(): Promise<void> {
    await this.running;
  }

  private async apply(repositoryId: string): Promise<void> {
    const log = this.log.child({ task: 'retention' });
    let backend: Backend | undefined;
    try {
      backend = await this.open(this.settings!);
      const result = await forget({
        backend,
        cache: ManifestCache.forRepository(this.stateFolder, repositoryId),
        policy: this.policy!,
        ...(this.host ? { host: this.host } : {}),
        clock: this.clock,
        onWait: (why) => log.info(why),
      });
      const told = new Set<string>(); // a snapshot of several sources is in several groups
      for (const group of result.groups) {
        for (const decision of group.decisions.filter((d) => !d.keep)) {
          if (told.has(decision.snapshot.id)) continue;
          told.add(decision.snapshot.id);
          log.info(
            {
              snapshot: decision.snapshot.id,
              ref: `${decision.snapshot.host}/${decision.snapshot.stamp}`,
              group: group.group,
            },
            'snapshot forgotten: no rule keeps it',
          );
        }
      }
      log.info({ removed: result.removed, kept: result.kept }, 'retention policy applied');
      // Also when nothing was forgotten: crashed backups' leftovers go too.
      if (this.prune) {
        const pruned = await prune({
          backend,
          clock: this.clock,
          prices: this.prices,
          onWait: (why) => log.info(why),
          onEarlyDeletion: (charge) =>
            log.warn(
              { objects: charge.objects, bytes: charge.bytes, usd: Number(charge.usd.toFixed(4)) },
              'deleting objects younger than their storage class minimum: billed for the rest of it anyway',
            ),
        });
        log.info(
          {
            deleted: pruned.deleted.objects,
            bytes: pruned.deleted.bytes,
            keptForRunningBackups: pruned.keptForRunningBackups,
            keptForResume: pruned.keptForResume.objects,
          },
          'unneeded objects deleted',
        );
      }
      this.lastCompleted = this.clock.now().getTime();
    } catch (err) {
      this.lastRun = undefined;
      log.error({ err: (err as Error).message }, 'retention failed; tried again after the next backup');
    } finally {
      await backend?.close().catch(() => {});
    }
  }
}
