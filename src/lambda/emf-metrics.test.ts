import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.js';
import { emptySummary } from '../replicate/events.js';
import { LiveMetrics, PassMetrics, publish, publishingMetrics } from './emf-metrics.js';

const target = { namespace: 'twinvault', replica: 's3://replica/laptop' };
const quiet = { warn: vi.fn() };

afterEach(() => {
  vi.restoreAllMocks();
  quiet.warn.mockClear();
});

function emfLines(log: { mock: { calls: unknown[][] } }): Array<Record<string, unknown>> {
  return log.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
}

describe('EMF metrics of the replicator Lambda', () => {
  it('writes one JSON line to stdout, without probing EC2 metadata or a CloudWatch agent', async () => {
    const request = vi.spyOn(http, 'request');
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await publish(
      target,
      { ObjectsCopied: { value: 2, unit: 'Count' }, BytesCopied: { value: 10, unit: 'Bytes' } },
      { requestId: 'r1', trigger: 'events' },
      quiet,
    );
    // Give a probe started as the library loaded the time to show itself.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(request).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
    expect(quiet.warn).not.toHaveBeenCalled();
    const [record, ...others] = emfLines(log);
    expect(others).toEqual([]);
    expect(record).toMatchObject({
      Replica: 's3://replica/laptop',
      requestId: 'r1',
      trigger: 'events',
      ObjectsCopied: 2,
      BytesCopied: 10,
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'twinvault',
            // Only ours: not the library's LogGroup, ServiceName and ServiceType.
            Dimensions: [['Replica']],
            Metrics: expect.arrayContaining([
              { Name: 'ObjectsCopied', Unit: 'Count' },
              { Name: 'BytesCopied', Unit: 'Bytes' },
            ]),
          },
        ],
      },
    });
  });

  it('never fails the replication: a namespace or replica CloudWatch refuses is logged, not thrown', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const figures = { ObjectsCopied: { value: 1, unit: 'Count' as const } };
    await publish({ ...target, namespace: 'twin$vault' }, figures, {}, quiet);
    await publish({ ...target, replica: 's3://réplica' }, figures, {}, quiet);
    expect(log).not.toHaveBeenCalled();
    expect(quiet.warn).toHaveBeenCalledTimes(2);
    expect(quiet.warn.mock.calls[0]![1]).toBe('metrics not written');
  });

  it('publishes when the work throws, and the error still reaches the caller', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const metrics = new LiveMetrics(new ManualClock());
    metrics.failed();
    await expect(
      publishingMetrics(target, metrics, {}, quiet, async () => {
        throw new Error('replica unreachable');
      }),
    ).rejects.toThrow('replica unreachable');
    expect(emfLines(log)).toEqual([expect.objectContaining({ ObjectsFailed: 1, ObjectsCopied: 0 })]);
  });

  it('measures the lag from the oldest object created, when the invocation ends', () => {
    const clock = new ManualClock('2026-11-26T10:00:00Z');
    const metrics = new LiveMetrics(clock);
    const event = { bucket: 'b', key: 'k', name: 'ObjectCreated:Put' };
    metrics.received([
      { ...event, action: 'created', time: '2026-11-26T09:59:00.000Z' },
      { ...event, action: 'created', time: '2026-11-26T09:58:30.000Z' },
      // Removals are not copied; events without a time say nothing about lag.
      { ...event, action: 'removed', time: '2026-11-26T08:00:00.000Z' },
      { ...event, action: 'created' },
    ]);
    metrics.copied('k', 100);
    metrics.copied('l', 23);
    clock.advance(1500);
    expect(metrics.figures()).toEqual({
      ObjectsCopied: { value: 2, unit: 'Count' },
      ObjectsFailed: { value: 0, unit: 'Count' },
      BytesCopied: { value: 123, unit: 'Bytes' },
      ReplicationLagSeconds: { value: 91.5, unit: 'Seconds' },
    });
    expect(new LiveMetrics(clock).figures()).not.toHaveProperty('ReplicationLagSeconds');
  });

  it('reports a pass from its summary, or what its events told when it threw', () => {
    const clock = new ManualClock('2026-11-26T10:00:00Z');
    const summary = emptySummary('s3://a', 's3://b', false, 'mirror', clock.now());
    Object.assign(summary.objects, { copied: 4, copiedBytes: 4096, failed: 1 });
    summary.manifests.held = 2;
    summary.deletes.deleted = 3;
    summary.problems.push({ key: 'x', message: 'm' }, { key: 'y', message: 'm' }, { key: 'z', message: 'm' });
    summary.resumeAfter = 'host/20261126_100000/f';
    const pass = new PassMetrics(clock);
    clock.advance(42_000);
    pass.finished(summary);
    expect(pass.figures()).toEqual({
      ObjectsCopied: { value: 4, unit: 'Count' },
      BytesCopied: { value: 4096, unit: 'Bytes' },
      ObjectsPending: { value: 3, unit: 'Count' },
      Problems: { value: 3, unit: 'Count' },
      PassComplete: { value: 0, unit: 'Count' },
      DeletedObjects: { value: 3, unit: 'Count' },
      PassDurationSeconds: { value: 42, unit: 'Seconds' },
    });

    const threw = new PassMetrics(clock);
    threw.onEvent({ type: 'copied', key: 'a', bytes: 7, ms: 1 });
    threw.onEvent({ type: 'deleted', key: 'b' });
    threw.onEvent({ type: 'held', key: 'c', missing: ['d'] });
    clock.advance(2_000);
    expect(threw.figures()).toEqual({
      ObjectsCopied: { value: 1, unit: 'Count' },
      BytesCopied: { value: 7, unit: 'Bytes' },
      DeletedObjects: { value: 1, unit: 'Count' },
      Problems: { value: 2, unit: 'Count' },
      PassComplete: { value: 0, unit: 'Count' },
      PassDurationSeconds: { value: 2, unit: 'Seconds' },
    });
  });
});
