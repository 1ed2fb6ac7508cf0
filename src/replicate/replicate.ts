import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import { type Clock, systemClock } from '../clock.js';
import { isTwinvaultError, TwinvaultError } from '../errors.js';
import type { PassSummary, ReplicationEvent } from './events.js';
import { replicatePass } from './pass.js';
import type { PassRecords } from './pass-record.js';
import type { ReplicaTarget } from './targets.js';

export interface ReplicaOutcome {
  target: ReplicaTarget;
  location: string;
  summary?: PassSummary;
  error?: TwinvaultError;
}

export interface ReplicateOptions {
  dryRun?: boolean;
  clock?: Clock;
  records?: PassRecords;
  onEvent?: (target: ReplicaTarget, event: ReplicationEvent) => void;
  /** Opens a replica's backend (tests wrap it); the registry by default. */
  open?: (target: ReplicaTarget) => Promise<Backend>;
}

/**
 * One pass to each replica, one after the other. A replica that fails (unreachable, refused) is
 * reported and does not keep the others from being brought up to date.
 */
export async function replicateToAll(
  source: Backend,
  targets: readonly ReplicaTarget[],
  options: ReplicateOptions = {},
): Promise<ReplicaOutcome[]> {
  const clock = options.clock ?? systemClock;
  const outcomes: ReplicaOutcome[] = [];
  for (const target of targets) {
    let destination: Backend | undefined;
    try {
      destination = await (options.open ?? ((t: ReplicaTarget) => openBackend(t.settings)))(target);
      const summary = await replicatePass({
        source,
        destination,
        deletes: target.deletes,
        concurrency: target.concurrency,
        dryRun: options.dryRun ?? false,
        clock,
        onEvent: (event) => options.onEvent?.(target, event),
      });
      // The record is for `twinvault replicas`; failing to write it fails no replication.
      await options.records?.passed(summary).catch(() => {});
      outcomes.push({ target, location: destination.location, summary });
    } catch (err) {
      const error = isTwinvaultError(err)
        ? err
        : new TwinvaultError('INTERNAL', `replication to ${target.url} failed: ${(err as Error).message}`, {
            cause: err,
          });
      const location = destination?.location ?? target.url;
      if (!options.dryRun)
        await options.records?.failed(location, clock.now(), error.message).catch(() => {});
      outcomes.push({ target, location, error });
    } finally {
      await destination?.close().catch(() => {});
    }
  }
  return outcomes;
}
