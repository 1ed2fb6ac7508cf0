import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Backend } from '../backend/backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import type { BackupSummary } from '../backup/backup.js';
import type { Clock } from '../clock.js';
import { isTwinvaultError, StorageError, UsageError } from '../errors.js';

/**
 * The agent's Prometheus metrics (`twinvault agent --metrics`): per source, the last success,
 * the last duration, files by outcome, bytes uploaded and errors by kind; the storage requests
 * by operation and outcome; and the usual process metrics.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly lastSuccess = new Gauge({
    name: 'twinvault_backup_last_success_timestamp_seconds',
    help: 'When the last successful backup of the source finished (Unix time).',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly lastDuration = new Gauge({
    name: 'twinvault_backup_last_duration_seconds',
    help: 'How long the last backup of the source took, successful or not.',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly files = new Counter({
    name: 'twinvault_backup_files_total',
    help: 'Files looked at by backups, by outcome (new, changed, unchanged, skipped).',
    labelNames: ['source', 'outcome'],
    registers: [this.registry],
  });
  private readonly uploaded = new Counter({
    name: 'twinvault_backup_uploaded_bytes_total',
    help: 'Bytes uploaded by backups.',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'twinvault_backup_errors_total',
    help: 'Failed backups, by error kind.',
    labelNames: ['source', 'kind'],
    registers: [this.registry],
  });
  private readonly replicaSuccess = new Gauge({
    name: 'twinvault_replica_last_success_timestamp_seconds',
    help: 'When the replica last received a snapshot or a full pass without problems (Unix time).',
    labelNames: ['replica'],
    registers: [this.registry],
  });
  private readonly replicaPending = new Gauge({
    name: 'twinvault_replica_pending_objects',
    help: 'Objects the last full pass could not bring to the replica (failed, or held-back snapshots).',
    labelNames: ['replica'],
    registers: [this.registry],
  });
  private readonly replicaErrors = new Counter({
    name: 'twinvault_replica_errors_total',
    help: 'Replications that failed, by error kind.',
    labelNames: ['replica', 'kind'],
    registers: [this.registry],
  });
  /** Every replica seen, so one that caught up reads 0. */
  private readonly knownReplicas = new Set<string>();
  private replicasBehind: (() => Array<{ url: string; since: Date }>) | undefined;
  private clock: Clock | undefined;
  private readonly replicaLag = new Gauge({
    name: 'twinvault_replica_lag_seconds',
    help: 'How long the replica has been missing a snapshot the repository has (0 when up to date).',
    labelNames: ['replica'],
    registers: [this.registry],
    collect: () => this.collectLag(),
  });
  readonly requests = new Counter({
    name: 'twinvault_storage_requests_total',
    help: 'Requests to the repository, by operation and outcome (ok, or the error code).',
    labelNames: ['operation', 'outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  backupSucceeded(source: string, summary: BackupSummary, durationMs: number, at: Date): void {
    this.lastSuccess.set({ source }, at.getTime() / 1000);
    this.lastDuration.set({ source }, durationMs / 1000);
    for (const outcome of ['new', 'changed', 'unchanged', 'skipped'] as const) {
      this.files.inc({ source, outcome }, summary.files[outcome]);
    }
    this.uploaded.inc({ source }, summary.bytesUploaded);
  }

  backupFailed(source: string, err: unknown, durationMs: number): void {
    this.lastDuration.set({ source }, durationMs / 1000);
    this.errors.inc({ source, kind: isTwinvaultError(err) ? err.code : 'INTERNAL' });
  }

  replicaSucceeded(replica: string, pending: number, at: Date): void {
    this.knownReplicas.add(replica);
    this.replicaPending.set({ replica }, pending);
    if (pending === 0) this.replicaSuccess.set({ replica }, at.getTime() / 1000);
  }

  replicaFailed(replica: string, err: unknown): void {
    this.knownReplicas.add(replica);
    this.replicaErrors.inc({ replica, kind: isTwinvaultError(err) ? err.code : 'INTERNAL' });
  }

  /** Where the lag gauge reads the replicas that are behind, at each scrape. */
  reportReplicaLag(behind: () => Array<{ url: string; since: Date }>, clock: Clock): void {
    this.replicasBehind = behind;
    this.clock = clock;
  }

  private collectLag(): void {
    if (!this.replicasBehind || !this.clock) return;
    const now = this.clock.now().getTime();
    const behind = new Map(this.replicasBehind().map((r) => [r.url, (now - r.since.getTime()) / 1000]));
    // Replicas that caught up read 0, rather than vanishing from the scrape.
    this.replicaLag.reset();
    for (const url of this.knownReplicas) this.replicaLag.set({ replica: url }, behind.get(url) ?? 0);
    for (const [url, seconds] of behind) this.replicaLag.set({ replica: url }, seconds);
  }

  /** The repository, with every request counted. */
  counting(backend: Backend): Backend {
    return new CountingBackend(backend, (operation, outcome) => this.requests.inc({ operation, outcome }));
  }

  /** Serves GET /metrics on host:port (127.0.0.1 unless told otherwise). */
  async serve(host: string, port: number): Promise<{ address: string; close(): Promise<void> }> {
    const server: Server = createServer(async (request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end('metrics are at /metrics\n');
        return;
      }
      response.writeHead(200, { 'content-type': this.registry.contentType });
      response.end(await this.registry.metrics());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new StorageError(`cannot serve metrics on ${host}:${port}: ${err.code ?? err.message}`, {
            cause: err,
          }),
        ),
      );
      server.listen(port, host, resolve);
    });
    const bound = server.address() as AddressInfo;
    return {
      address: `${bound.address}:${bound.port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}

/** "9464" or "host:9464"; without a host, loopback only: metrics are not for the whole network. */
export function parseMetricsAddress(value: string): { host: string; port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    throw new UsageError(`--metrics ${JSON.stringify(value)} is not [HOST:]PORT (e.g. 9464)`);
  return { host: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}
