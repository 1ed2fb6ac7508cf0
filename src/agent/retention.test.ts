import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { replicationFixture } from '../../test/replication-fixture.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import { DEFAULT_NOTIFICATIONS } from '../config/notifications-schema.js';
import { agentSchema, retentionSchema } from '../config/schema.js';
import { listSnapshots } from '../repository/snapshots.js';
import { AgentRetention } from './retention.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
});

describe("the agent's retention", () => {
  it('applies the configured policy after a backup, once per interval, and prunes; logging what went and why', async () => {
    const backend = new MemoryBackend('memory://agent-retention');
    const fixture = await replicationFixture(backend);
    cleanup = fixture.cleanup;
    for (const round of [1, 2, 3]) {
      await fixture.write({ 'a.txt': `version ${round}` });
      await fixture.snapshot();
    }
    // Another machine's snapshots in the same repository: not this agent's to forget.
    for (let i = 0; i < 2; i++) {
      await backup({
        repository: fixture.repo,
        sources: [{ path: fixture.folder }],
        host: 'desk',
        stateFolder: join(fixture.dir, 'desk'),
        clock: fixture.clock,
      });
    }
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(
      new Writable({
        write(chunk, _e, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const config: ResolvedConfig = {
      configFile: undefined,
      repository: { url: 'memory://agent-retention' },
      repositoryOrigin: 'file',
      sources: [{ path: fixture.folder }],
      host: 'laptop',
      agent: agentSchema.parse({}),
      replicas: [],
      retention: retentionSchema.parse({ keepLast: 1, every: '1h' }),
      prices: {},
      notifications: DEFAULT_NOTIFICATIONS,
    };
    const clock = new ManualClock(new Date());
    const retention = new AgentRetention(fixture.dir, log, clock, async () => backend);
    retention.configure(config, 'laptop');
    retention.afterBackup(fixture.repo.config.id);
    await retention.idle();
    const own = async () => (await listSnapshots(backend)).filter((ref) => ref.host === 'laptop');
    expect(await own()).toHaveLength(1);
    expect((await listSnapshots(backend)).filter((ref) => ref.host === 'desk')).toHaveLength(2);
    expect(lines.filter((l) => l.msg === 'snapshot forgotten: no rule keeps it')).toHaveLength(2);
    expect(lines.find((l) => l.msg === 'unneeded objects deleted')).toMatchObject({ deleted: 2 });
    expect(await fixture.latestRestoresAsFolder(backend)).toBe(true);

    await fixture.write({ 'a.txt': 'version 4' });
    await fixture.snapshot();
    clock.advance(30 * 60_000);
    retention.afterBackup(fixture.repo.config.id); // not due yet
    await retention.idle();
    expect(await own()).toHaveLength(2);
    clock.advance(31 * 60_000);
    retention.afterBackup(fixture.repo.config.id);
    await retention.idle();
    expect(await own()).toHaveLength(1);
  });
});
