import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { keysOf, replicationFixture } from '../../test/replication-fixture.js';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { ManualClock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import { agentSchema } from '../config/schema.js';
import { kindOfKey } from '../repository/layout.js';
import { AgentVerify } from './verify.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
});

describe("the agent's verify", () => {
  it('checks daily from listings, reads the next slice of data weekly, and records what it found', async () => {
    const backend = new MemoryBackend('memory://agent-verify');
    const fixture = await replicationFixture(backend);
    cleanup = fixture.cleanup;
    await fixture.write({ 'a.txt': 'alpha', 'b.txt': 'bravo' });
    await fixture.snapshot();
    const silent = pino(new Writable({ write: (_c, _e, done) => done() }));
    const clock = new ManualClock(new Date());
    const verify = new AgentVerify(silent, clock, async () => backend);
    verify.configure({
      repository: { url: 'memory://agent-verify' },
      agent: agentSchema.parse({ verify: { readDataSlices: 1 } }),
    } as ResolvedConfig);

    verify.afterBackup();
    await verify.idle();
    expect(verify.last).toMatchObject({ ok: true, readData: '1/1', snapshots: 1, objects: 2, problems: 0 });

    // A flipped byte shows only when the data is read: not in the daily check, in the weekly one.
    const key = (await keysOf(backend)).find((k) => kindOfKey(k) === 'content')!;
    await backend.put(key, bodyFromBuffer('ALPHA')); // same size as either file
    clock.advance(86_400_000);
    verify.afterBackup();
    await verify.idle();
    expect(verify.last).toMatchObject({ ok: true, readData: undefined });
    clock.advance(6 * 86_400_000);
    verify.afterBackup();
    await verify.idle();
    expect(verify.last).toMatchObject({ ok: false, problems: 1, readData: '1/1' });
    expect(verify.last!.firstProblems![0]).toMatch(/^corrupt: /);
  });
  it('skips archived objects in the read-data check, reports them as not read, and never retrieves them', async () => {
    const memory = new MemoryBackend('memory://agent-verify-cold');
    const backend = new CountingBackend(memory);
    const fixture = await replicationFixture(memory);
    cleanup = fixture.cleanup;
    await fixture.write({ 'a.txt': 'alpha', 'b.txt': 'bravo' });
    await fixture.snapshot();
    const key = (await keysOf(memory)).find((k) => kindOfKey(k) === 'content')!;
    memory.archive(key, 'DEEP_ARCHIVE');
    const silent = pino(new Writable({ write: (_c, _e, done) => done() }));
    const verify = new AgentVerify(silent, new ManualClock(new Date()), async () => backend);
    verify.configure({
      repository: { url: 'memory://agent-verify-cold' },
      agent: agentSchema.parse({ verify: { readDataSlices: 1 } }),
    } as ResolvedConfig);
    verify.afterBackup();
    await verify.idle();
    expect(verify.last).toMatchObject({
      ok: true,
      readData: '1/1',
      objects: 2,
      problems: 0,
      notReadArchived: 1,
    });
    expect(backend.total('restore')).toBe(0);
    expect(backend.total('head')).toBe(0);
    expect(backend.snapshot().filter((count) => count.outcome === 'ARCHIVED')).toEqual([]);
  });
});
