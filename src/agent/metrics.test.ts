import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import type { BackupSummary } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import { NotFoundError, StorageUnreachableError } from '../errors.js';
import { AgentMetrics, parseMetricsAddress } from './metrics.js';

describe("the agent's Prometheus metrics", () => {
  it('serves backups, errors and storage requests in the text format, on loopback', async () => {
    const metrics = new AgentMetrics();
    const summary = {
      files: { new: 3, changed: 1, unchanged: 96, skipped: 0 },
      bytesUploaded: 4096,
    } as BackupSummary;
    metrics.backupSucceeded('Documents', summary, 1500, new Date('2026-11-26T12:00:00Z'));
    metrics.backupFailed('Pictures', new StorageUnreachableError('down'), 200);
    metrics.replicaSucceeded('s3://replica/laptop', 2, new Date('2026-11-26T12:00:00Z'));
    metrics.replicaFailed('s3://replica/laptop', new StorageUnreachableError('down'));
    const backend = metrics.counting(new MemoryBackend());
    await backend.put('a', bodyFromBuffer('x'));
    await backend.get('missing').catch((err) => expect(err).toBeInstanceOf(NotFoundError));

    const served = await metrics.serve('127.0.0.1', 0);
    try {
      expect(served.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const response = await fetch(`http://${served.address}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const families = new Map(parsePrometheusTextFormat(await response.text()).map((f) => [f.name, f]));
      const sample = (name: string, labels: Record<string, string>) =>
        families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
          ?.value;
      expect(sample('twinvault_backup_last_success_timestamp_seconds', { source: 'Documents' })).toBe(
        String(Date.parse('2026-11-26T12:00:00Z') / 1000),
      );
      expect(sample('twinvault_backup_last_duration_seconds', { source: 'Pictures' })).toBe('0.2');
      expect(sample('twinvault_backup_files_total', { source: 'Documents', outcome: 'unchanged' })).toBe(
        '96',
      );
      expect(sample('twinvault_backup_uploaded_bytes_total', { source: 'Documents' })).toBe('4096');
      expect(
        sample('twinvault_backup_errors_total', { source: 'Pictures', kind: 'STORAGE_UNREACHABLE' }),
      ).toBe('1');
      expect(sample('twinvault_storage_requests_total', { operation: 'put', outcome: 'ok' })).toBe('1');
      expect(sample('twinvault_storage_requests_total', { operation: 'get', outcome: 'NOT_FOUND' })).toBe(
        '1',
      );
      expect(sample('twinvault_replica_pending_objects', { replica: 's3://replica/laptop' })).toBe('2');
      expect(
        sample('twinvault_replica_errors_total', {
          replica: 's3://replica/laptop',
          kind: 'STORAGE_UNREACHABLE',
        }),
      ).toBe('1');
      expect(families.has('process_cpu_seconds_total')).toBe(true);
      expect((await fetch(`http://${served.address}/`)).status).toBe(404);
    } finally {
      await served.close();
    }
  });

  it("reads each replica's lag at scrape time, and 0 once it caught up", async () => {
    const metrics = new AgentMetrics();
    const clock = new ManualClock('2026-11-26T12:00:00Z');
    let behind = [{ url: 's3://replica/laptop', since: new Date('2026-11-26T11:00:00Z') }];
    metrics.reportReplicaLag(() => behind, clock);
    metrics.replicaFailed('s3://replica/laptop', new StorageUnreachableError('down'));
    const lag = async () =>
      parsePrometheusTextFormat(await metrics.registry.metrics())
        .find((f) => f.name === 'twinvault_replica_lag_seconds')
        ?.metrics.map((m) => [m.labels?.replica, m.value]);
    expect(await lag()).toEqual([['s3://replica/laptop', '3600']]);
    clock.advance(60_000);
    expect(await lag()).toEqual([['s3://replica/laptop', '3660']]);
    behind = [];
    expect(await lag()).toEqual([['s3://replica/laptop', '0']]);
  });

  it('binds to loopback unless a host is given', () => {
    expect(parseMetricsAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(() => parseMetricsAddress('http://x')).toThrow(/is not \[HOST:\]PORT/);
  });
});
