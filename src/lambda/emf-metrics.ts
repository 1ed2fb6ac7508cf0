/**
 * The replicator Lambda's figures as CloudWatch Embedded Metric Format: one JSON line on stdout
 * per invocation, which CloudWatch Logs turns into metrics (no API call, no extra permission).
 * Written with AWS's aws-embedded-metrics library; see docs/AWS.md for the list.
 */

import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { PassSummary, ReplicationEvent } from '../replicate/events.js';
import type { SyncObserver } from '../replicate/live/object-sync.js';
import type { ObjectEvent } from '../replicate/live/s3-events.js';
import { EMF_LAG_METRIC, EMF_REPLICA_DIMENSION } from './emf-names.js';

type Unit = 'Count' | 'Bytes' | 'Seconds';
export type Figures = Record<string, { value: number; unit: Unit }>;

export interface MetricsTarget {
  namespace: string;
  replica: string;
}

/** What an invocation on object events did: counted as ObjectSync reports, lag from event times. */
export class LiveMetrics implements SyncObserver {
  private objectsCopied = 0;
  private bytesCopied = 0;
  private objectsFailed = 0;
  private oldestEvent: number | undefined;

  constructor(private readonly clock: Clock) {}

  /** The events of the invocation; the oldest with a time sets the lag. */
  received(events: readonly ObjectEvent[]): void {
    for (const event of events) {
      if (event.action !== 'created' || event.time === undefined) continue;
      const time = Date.parse(event.time);
      if (this.oldestEvent === undefined || time < this.oldestEvent) this.oldestEvent = time;
    }
  }

  copied(_key: string, bytes: number): void {
    this.objectsCopied++;
    this.bytesCopied += bytes;
  }

  failed(): void {
    this.objectsFailed++;
  }

  /** Read when the invocation ends: the lag is how long its oldest object took to reach the replica. */
  figures(): Figures {
    const figures: Figures = {
      ObjectsCopied: { value: this.objectsCopied, unit: 'Count' },
      ObjectsFailed: { value: this.objectsFailed, unit: 'Count' },
      BytesCopied: { value: this.bytesCopied, unit: 'Bytes' },
    };
    if (this.oldestEvent !== undefined) {
      const lagMs = Math.max(0, this.clock.now().getTime() - this.oldestEvent);
      figures[EMF_LAG_METRIC] = { value: lagMs / 1000, unit: 'Seconds' };
    }
    return figures;
  }
}

/** What a scheduled pass did: its summary, or, when it threw, what its events told until then. */
export class PassMetrics {
  private readonly started: Date;
  private summary: PassSummary | undefined;
  private readonly seen = { copied: 0, bytes: 0, deleted: 0, problems: 0 };

  constructor(private readonly clock: Clock) {
    this.started = clock.now();
  }

  onEvent(event: ReplicationEvent): void {
    if (event.type === 'copied') {
      this.seen.copied++;
      this.seen.bytes += event.bytes;
    } else if (event.type === 'deleted') this.seen.deleted++;
    else if (event.type === 'failed' || event.type === 'held') this.seen.problems++;
  }

  finished(summary: PassSummary): void {
    this.summary = summary;
  }

  figures(): Figures {
    const duration = {
      value: (this.clock.now().getTime() - this.started.getTime()) / 1000,
      unit: 'Seconds' as const,
    };
    const summary = this.summary;
    if (!summary) {
      // The pass threw (a store unreachable, the replica locked): what it did, and one problem more.
      return {
        ObjectsCopied: { value: this.seen.copied, unit: 'Count' },
        BytesCopied: { value: this.seen.bytes, unit: 'Bytes' },
        DeletedObjects: { value: this.seen.deleted, unit: 'Count' },
        Problems: { value: this.seen.problems + 1, unit: 'Count' },
        PassComplete: { value: 0, unit: 'Count' },
        PassDurationSeconds: duration,
      };
    }
    return {
      ObjectsCopied: { value: summary.objects.copied, unit: 'Count' },
      BytesCopied: { value: summary.objects.copiedBytes, unit: 'Bytes' },
      // As the agent's twinvault_replica_pending_objects: failed objects and held-back snapshots.
      ObjectsPending: { value: summary.objects.failed + summary.manifests.held, unit: 'Count' },
      Problems: { value: summary.problems.length, unit: 'Count' },
      PassComplete: { value: summary.resumeAfter === undefined ? 1 : 0, unit: 'Count' },
      DeletedObjects: { value: summary.deletes.deleted, unit: 'Count' },
      PassDurationSeconds: duration,
    };
  }
}

/**
 * Runs `work`, then writes the figures `metrics` gathered, whether `work` returned or threw: a
 * Lambda is frozen once the handler returns, so nothing may wait to be sent later.
 */
export async function publishingMetrics<T>(
  target: MetricsTarget,
  metrics: { figures(): Figures },
  properties: Record<string, string | undefined>,
  log: Pick<Logger, 'warn'>,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } finally {
    await publish(target, metrics.figures(), properties, log);
  }
}

/** Writes one EMF line. Never throws: metrics that cannot be written must not fail a replication. */
export async function publish(
  target: MetricsTarget,
  figures: Figures,
  properties: Record<string, string | undefined>,
  log: Pick<Logger, 'warn'>,
): Promise<void> {
  try {
    const { createMetricsLogger } = await metricsLibrary();
    const metrics = createMetricsLogger();
    metrics.setNamespace(target.namespace);
    // Only our dimension (not the library's LogGroup/ServiceName/ServiceType): alarms name it alone.
    metrics.setDimensions({ [EMF_REPLICA_DIMENSION]: target.replica });
    for (const [name, { value, unit }] of Object.entries(figures)) metrics.putMetric(name, value, unit);
    for (const [key, value] of Object.entries(properties))
      if (value !== undefined) metrics.setProperty(key, value);
    await metrics.flush();
  } catch (err) {
    log.warn({ err: (err as Error).message, namespace: target.namespace }, 'metrics not written');
  }
}

let library: Promise<typeof import('aws-embedded-metrics')> | undefined;

/**
 * The library picks its environment as it loads: told nothing outside Lambda, it probes EC2's
 * metadata service and then writes to a CloudWatch agent's socket. Setting
 * `Configuration.environmentOverride` after an import is too late for that, so the environment is
 * set before the library is first loaded. In "Lambda" it writes each record with console.log.
 */
function metricsLibrary(): Promise<typeof import('aws-embedded-metrics')> {
  if (!library) {
    process.env.AWS_EMF_ENVIRONMENT = 'Lambda';
    library = import('aws-embedded-metrics');
  }
  return library;
}
