import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import type { Clock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import type { AgentConfig, RepositoryConfig } from '../config/schema.js';
import { isTwinvaultError } from '../errors.js';
import { verifyRepository } from '../verify/verify.js';
import type { VerifyStatus } from './state.js';

/**
 * The agent's integrity checks, in the background after backups: every manifest and referenced
 * object from listings once per `verify.every` (daily), and once per `verify.readDataEvery`
 * (weekly) one slice of the objects downloaded and checked against SHA-256, the next slice each
 * time, so every object is read over `readDataSlices` runs. The last result shows in `status`.
 */
export class AgentVerify {
  private settings: AgentConfig['verify'] | undefined;
  private repository: RepositoryConfig | undefined;
  private lastMetadata: number | undefined;
  private lastReadData: number | undefined;
  private running: Promise<void> | undefined;
  last: VerifyStatus | undefined;
  /** Told each result (the agent's alerts). */
  onChecked: ((status: VerifyStatus) => void) | undefined;
  /** Runs the check; the agent passes its queue, so verify never overlaps retention. */
  serialize: (task: () => Promise<void>) => Promise<void> = (task) => task();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly open: (settings: RepositoryConfig) => Promise<Backend> = openBackend,
  ) {}

  configure(config: ResolvedConfig): void {
    this.settings = config.agent.verify;
    this.repository = config.repository;
  }

  afterBackup(): void {
    const settings = this.settings;
    if (!settings?.enabled || this.running) return;
    const now = this.clock.now().getTime();
    const readData = this.lastReadData === undefined || now - this.lastReadData >= settings.readDataEvery;
    const metadata = this.lastMetadata === undefined || now - this.lastMetadata >= settings.every;
    if (!readData && !metadata) return;
    this.running = this.serialize(() => this.check(readData, settings.readDataSlices)).finally(() => {
      this.running = undefined;
    });
  }

  async idle(): Promise<void> {
    await this.running;
  }

  private async check(readData: boolean, slices: number): Promise<void> {
    const started = this.clock.now();
    // The slice follows the calendar, not a counter: an agent restarted often still reads them all.
    const period = Math.floor(started.getTime() / (this.settings?.readDataEvery ?? 7 * 86_400_000));
    const slice = { kind: 'slice' as const, n: (period % slices) + 1, m: slices };
    let backend: Backend | undefined;
    try {
      backend = await this.open(this.repository!);
      const result = await verifyRepository(backend, readData ? { readData: slice } : {});
      this.lastMetadata = started.getTime();
      if (readData) this.lastReadData = started.getTime();
      this.last = {
        at: started.toISOString(),
        readData: readData ? `${slice.n}/${slice.m}` : undefined,
        ok: result.problems.length === 0,
        snapshots: result.snapshots,
        objects: result.objects,
        problems: result.problems.length,
        firstProblems: result.problems.slice(0, 5).map((p) => `${p.kind}: ${p.key} ${p.message}`),
      };
      const log = result.problems.length === 0 ? this.log.info.bind(this.log) : this.log.error.bind(this.log);
      log(
        { task: 'verify', ...this.last },
        result.problems.length === 0 ? 'repository verified' : 'verify found problems',
      );
    } catch (err) {
      this.last = {
        at: started.toISOString(),
        ok: false,
        problems: 0,
        error: (err as Error).message,
        code: isTwinvaultError(err) ? err.code : 'INTERNAL',
        retryable: isTwinvaultError(err) && err.isRetryable,
      };
      this.log.error(
        { task: 'verify', err: (err as Error).message },
        'verify could not run; tried again after the next backup',
      );
    } finally {
      await backend?.close().catch(() => {});
    }
    try {
      if (this.last) this.onChecked?.(this.last);
    } catch (err) {
      this.log.error({ task: 'verify', err: (err as Error).message }, 'cannot pass on the verify result');
    }
  }
}
