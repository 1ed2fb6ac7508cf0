import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../../../test/http-receiver.js';
import { keysOf, replicationFixture } from '../../../test/replication-fixture.js';
import type { Backend } from '../../backend/backend.js';
import { MemoryBackend } from '../../backend/memory/memory-backend.js';
import { ManualClock } from '../../clock.js';
import { notificationsSchema } from '../../config/notifications-schema.js';
import { StorageUnreachableError } from '../../errors.js';
import { LagWatch } from '../../notify/lag-watch.js';
import { ReplicaLag } from '../replica-lag.js';
import type { ReplicaTarget } from '../targets.js';
import { LiveReplication } from './live-replication.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the live replicator's lag alert", () => {
  it('tells when a replica has been behind too long, and when a full pass finds it complete', async () => {
    const source = new MemoryBackend('memory://live-source');
    const fixture = await replicationFixture(source);
    cleanups.push(fixture.cleanup);
    await fixture.write({ 'a.txt': 'alpha' });
    await fixture.snapshot();
    const replica = new MemoryBackend('memory://live-replica');
    let replicaDown = true;
    const receiver = await startReceiver();
    cleanups.push(receiver.stop);
    const clock = new ManualClock(new Date());
    const log = pino({ level: 'silent' });
    const lag = new ReplicaLag(clock);
    const target: ReplicaTarget = {
      url: 's3://replica/laptop',
      settings: { url: 's3://replica/laptop' },
      deletes: { policy: 'keep' },
      concurrency: 4,
      afterBackup: false,
    };
    const live = new LiveReplication({
      source,
      scope: { bucket: 'b', prefix: '' },
      targets: [target],
      clock,
      log,
      lag,
      schedule: '0 0 1 1 *',
      open: async (): Promise<Backend> => {
        if (replicaDown) throw new StorageUnreachableError('cannot reach s3://replica/laptop: ETIMEDOUT');
        return replica;
      },
    });
    const watch = await LagWatch.start({
      settings: notificationsSchema.parse({
        channels: [{ type: 'webhook', name: 'hook', url: `${receiver.url}/hook` }],
        replicationLagOver: '30m',
        checkEvery: '20ms',
      }),
      lag,
      replicas: [target.url],
      host: 'replicator',
      log,
      clock,
    });
    await live.start();
    await live.fullPass();
    expect(lag.list()).toEqual([
      {
        url: 's3://replica/laptop',
        since: clock.now(),
        error: 'cannot reach s3://replica/laptop: ETIMEDOUT',
      },
    ]);

    clock.advance(31 * 60_000);
    const [problem] = await receiver.waitFor(1);
    expect(JSON.parse(problem!.body)).toMatchObject({
      event: 'replication-lag',
      state: 'problem',
      host: 'replicator',
      subject: { kind: 'replica', name: 's3://replica/laptop' },
      details: { lagSeconds: 31 * 60, limitSeconds: 30 * 60 },
    });

    replicaDown = false;
    await live.fullPass();
    expect(lag.list()).toEqual([]);
    const [, recovered] = await receiver.waitFor(2);
    expect(JSON.parse(recovered!.body)).toMatchObject({ event: 'replication-lag', state: 'recovered' });
    expect((await keysOf(replica)).length).toBe((await keysOf(source)).length);
    await live.stop();
    await watch.stop();
  });
});
