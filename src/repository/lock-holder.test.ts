import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdLock } from '../../test/lock-holder-process.js';
import { bodyFromBuffer } from '../backend/body.js';
import { LocalBackend } from '../backend/local/local-backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { backup } from '../backup/backup.js';
import { ManualClock, systemClock } from '../clock.js';
import { forget } from '../retention/forget.js';
import { prune } from '../retention/prune.js';
import { holderState, ownIdentity } from './lock-holder.js';
import { type LockInfo, lockKey, RepositoryLock } from './locks.js';
import { ManifestCache } from './manifest-cache.js';
import { initRepository } from './repository.js';
import { listSnapshots } from './snapshots.js';
import { unlock } from './unlock.js';

const linux = ownIdentity().boot !== undefined;

describe('a lock whose process is gone from this machine', () => {
  let work: string;
  const holders: Array<Awaited<ReturnType<typeof holdLock>>> = [];
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-lock-holder-'));
  });
  afterEach(async () => {
    for (const holder of holders.splice(0)) await holder.kill();
    await rm(work, { recursive: true, force: true });
  });

  async function repositoryWithOneSnapshot() {
    const folder = join(work, 'repo');
    const backend = new LocalBackend(folder, { fsync: false });
    await mkdir(folder);
    const repository = await initRepository(backend, { clock: systemClock });
    const source = join(work, 'Documents');
    await mkdir(source);
    await writeFile(join(source, 'a.txt'), 'one');
    const run = (lockWaitMs: number) =>
      backup({
        repository,
        sources: [{ path: source }],
        host: 'laptop',
        stateFolder: join(work, 'state'),
        lockWaitMs,
      });
    await run(0);
    return { folder, backend, source, run };
  }

  it('a prune killed with SIGKILL blocks no backup: the next one proceeds at once', async () => {
    const { folder, backend, source, run } = await repositoryWithOneSnapshot();
    const holder = await holdLock(folder, 'exclusive');
    holders.push(holder);
    // While the prune runs, backups wait for it, and say whose lock it is.
    const blocked = await run(0).catch((err: Error & { hint?: string }) => err);
    expect(blocked).toBeInstanceOf(Error);
    expect((blocked as Error).message).toMatch(
      new RegExp(
        `locked by prune on ${hostname()} \\(pid ${holder.child.pid}\\) since .* \\(less than a minute ago\\); its lock expires at`,
      ),
    );
    expect((blocked as { hint?: string }).hint).toContain('still running on this machine');

    await holder.kill();
    await writeFile(join(source, 'b.txt'), 'two');
    const summary = await run(0);
    expect(summary.files.new).toBe(1);
    expect(await listSnapshots(backend)).toHaveLength(2);
    // The dead lock is still there until something cleans up: prune does.
    expect((await prune({ backend })).staleLocksRemoved).toBe(1);
  });

  it('a backup killed with SIGKILL does not hold up forget', async () => {
    const { folder, backend } = await repositoryWithOneSnapshot();
    const holder = await holdLock(folder, 'shared');
    holders.push(holder);
    await holder.kill();
    const result = await forget({
      backend,
      cache: new ManifestCache(join(work, 'cache')),
      policy: { last: 1 },
      lockWaitMs: 0,
    });
    expect(result.kept).toBe(1);
  });
});

describe('holderState', () => {
  const mine = (extra: Partial<LockInfo> = {}): LockInfo => ({
    kind: 'exclusive',
    host: hostname(),
    pid: process.pid,
    operation: 'prune',
    created: new Date().toISOString(),
    expires: new Date(Date.now() + 1_800_000).toISOString(),
    holder: ownIdentity(),
    ...extra,
  });

  it('sees this process running, and a pid nobody has as gone', () => {
    expect(holderState(mine())).toBe('running');
    expect(holderState(mine({ pid: 2 ** 22 + 12345 }))).toBe('gone');
    expect(holderState(mine({ pid: -1 }))).toBe('gone');
  });

  it('never judges a lock of another host name', () => {
    expect(holderState(mine({ host: 'desk', pid: 2 ** 22 + 12345 }))).toBe('unknown');
  });

  it.runIf(linux)('a reused pid (another start time) is gone; a rebooted machine holds no process', () => {
    const me = ownIdentity();
    expect(holderState(mine({ holder: { ...me, started: '1' } }))).toBe('gone');
    expect(holderState(mine({ holder: { ...me, boot: 'an-earlier-boot' } }))).toBe('gone');
  });

  it.runIf(linux)(
    'another machine by the same name, another container, or an old lock: left to expiry',
    () => {
      const me = ownIdentity();
      const gonePid = 2 ** 22 + 12345;
      expect(holderState(mine({ pid: gonePid, holder: { ...me, boot: 'b', machine: 'other' } }))).toBe(
        'unknown',
      );
      expect(holderState(mine({ pid: gonePid, holder: { ...me, pidNamespace: 'pid:[1]' } }))).toBe('unknown');
      const { holder: _, ...old } = mine({ pid: gonePid });
      expect(holderState(old)).toBe('unknown');
    },
  );
});

describe('a lock of another machine with the same host name (two Macs called "MacBook-Pro")', () => {
  const gonePid = 2 ** 22 + 12345;
  // Everything about it is this machine's but its install id: the lock of a machine whose name,
  // boot and pid space look like these, here simply to leave the install id the only difference.
  const other = (pid: number, extra: Partial<LockInfo> = {}): LockInfo => ({
    kind: 'shared',
    host: hostname(),
    pid,
    operation: 'backup',
    created: new Date(Date.now() - 3 * 3_600_000).toISOString(),
    expires: new Date(Date.now() + 25 * 60_000).toISOString(),
    holder: { ...ownIdentity(), installId: 'a-mac-across-the-room' },
    snapshotHost: 'laptop',
    ...extra,
  });

  it('is never judged from the processes here, whether its pid is alive or gone here', () => {
    expect(ownIdentity().installId).toMatch(/^[0-9a-f]{24}$/);
    expect(holderState(other(process.pid))).toBe('unknown');
    expect(holderState(other(gonePid))).toBe('unknown');
  });

  it("on macOS and Windows (no boot id) too: only the install id makes a lock this machine's", () => {
    const mac = { host: 'MacBook-Pro', identity: { installId: 'this-mac' } };
    const lock = (pid: number, holder?: LockInfo['holder']): LockInfo => {
      const { holder: _, ...rest } = other(pid);
      return { ...rest, host: 'MacBook-Pro', ...(holder ? { holder } : {}) };
    };
    expect(holderState(lock(gonePid, { installId: 'the-other-mac' }), mac)).toBe('unknown');
    expect(holderState(lock(process.pid, { installId: 'the-other-mac' }), mac)).toBe('unknown');
    // Written by an older version (no holder), or with no install id: left to expiry.
    expect(holderState(lock(gonePid), mac)).toBe('unknown');
    expect(holderState(lock(gonePid, {}), mac)).toBe('unknown');
    // A state folder that could not be written: nothing counts as this machine's.
    expect(holderState(lock(gonePid, {}), { host: 'MacBook-Pro', identity: {} })).toBe('unknown');
    // This Mac's own locks: gone at once when their process is.
    expect(holderState(lock(gonePid, { installId: 'this-mac' }), mac)).toBe('gone');
    expect(holderState(lock(process.pid, { installId: 'this-mac' }), mac)).toBe('running');
  });

  it('keeps prune off what its running backup uploaded, and blocks forget', async () => {
    const backend = new MemoryBackend();
    await initRepository(backend, { clock: systemClock });
    await backend.put('laptop/20991231_000000/Documents/new.txt', bodyFromBuffer('about to be referenced'));
    await backend.put(lockKey('shared', 'other-mac'), bodyFromBuffer(JSON.stringify(other(gonePid))));
    const result = await prune({ backend, lockWaitMs: 0 });
    expect(result).toMatchObject({ keptForRunningBackups: 1, deleted: { objects: 0 }, staleLocksRemoved: 0 });
    expect((await backend.head('laptop/20991231_000000/Documents/new.txt')).size).toBe(22);
    const blocked = await forget({
      backend,
      cache: new ManifestCache(join(tmpdir(), `twinvault-other-mac-${process.pid}`)),
      policy: { last: 1 },
      lockWaitMs: 0,
    }).catch((err: Error & { hint?: string }) => err);
    expect(blocked).toMatchObject({
      message: expect.stringMatching(`locked by backup on ${hostname()} \\(pid ${gonePid}\\)`),
      hint: expect.stringContaining(`here or on another machine named ${hostname()}`),
    });
  });

  it('unlock keeps it whether its pid is alive or gone here; --remove-all removes it', async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock(new Date());
    await backend.put(lockKey('shared', 'alive-here'), bodyFromBuffer(JSON.stringify(other(process.pid))));
    await backend.put(lockKey('shared', 'gone-here'), bodyFromBuffer(JSON.stringify(other(gonePid))));
    const first = await unlock(backend, { clock });
    expect(first.removed).toEqual([]);
    expect(first.kept.map((l) => [l.key, l.reason]).sort()).toEqual([
      [lockKey('shared', 'alive-here'), 'live'],
      [lockKey('shared', 'gone-here'), 'live'],
    ]);
    const all = await unlock(backend, { clock, removeAll: true });
    expect(all.removed.map((l) => [l.key, l.reason]).sort()).toEqual([
      [lockKey('shared', 'alive-here'), 'forced'],
      [lockKey('shared', 'gone-here'), 'forced'],
    ]);
  });
});

describe('a lock of another machine', () => {
  const desk = (created: Date, kind: 'exclusive' | 'shared' = 'exclusive'): LockInfo => ({
    kind,
    host: 'desk',
    pid: 4242,
    operation: kind === 'exclusive' ? 'prune' : 'backup',
    created: created.toISOString(),
    expires: new Date(created.getTime() + 30 * 60_000).toISOString(),
  });

  it('blocks with its age, owner and expiry, and says how to clear it', async () => {
    const work = await mkdtemp(join(tmpdir(), 'twinvault-lock-message-'));
    try {
      const backend = new MemoryBackend();
      const clock = new ManualClock('2026-11-20T10:12:00Z');
      const repository = await initRepository(backend, { clock });
      await mkdir(join(work, 'Documents'));
      await backend.put(
        lockKey('exclusive', 'aaaa'),
        bodyFromBuffer(JSON.stringify(desk(new Date('2026-11-20T10:00:00Z')))),
      );
      const error = await backup({
        repository,
        sources: [{ path: join(work, 'Documents') }],
        host: 'laptop',
        stateFolder: join(work, 'state'),
        clock,
        lockWaitMs: 0,
      }).catch((err: Error & { hint?: string }) => err);
      expect(error).toMatchObject({
        message:
          'the repository is locked by prune on desk (pid 4242) since 2026-11-20T10:00:00.000Z (12 minutes ago); its lock expires at 2026-11-20T10:30:00.000Z unless renewed',
        hint: 'wait for it to finish; if that prune crashed, run "twinvault unlock" on desk, or "twinvault unlock --remove-all" here once you are sure nothing of twinvault runs on desk (it removes every lock)',
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('unlock removes stale and torn locks only; --remove-all the live ones too, never one running here', async () => {
    const backend = new MemoryBackend();
    const clock = new ManualClock('2026-11-20T10:12:00Z');
    const put = (key: string, body: string) => backend.put(key, bodyFromBuffer(body));
    await put(lockKey('exclusive', 'live'), JSON.stringify(desk(new Date('2026-11-20T10:00:00Z'))));
    await put(lockKey('shared', 'expired'), JSON.stringify(desk(new Date('2026-11-20T09:00:00Z'), 'shared')));
    await put(lockKey('shared', 'torn'), '{"kind":"sha');
    await put(lockKey('shared', 'null'), 'null');
    const dead = {
      ...desk(new Date('2026-11-20T10:10:00Z'), 'shared'),
      host: hostname(),
      pid: 2 ** 22 + 12345,
    };
    await put(lockKey('shared', 'dead'), JSON.stringify({ ...dead, holder: ownIdentity() }));
    const running = await RepositoryLock.acquire(backend, 'shared', 'backup', clock);

    const first = await unlock(backend, { clock });
    expect(first.removed.map((l) => [l.key, l.reason]).sort()).toEqual([
      [lockKey('shared', 'dead'), 'gone'],
      [lockKey('shared', 'expired'), 'expired'],
      [lockKey('shared', 'null'), 'unreadable'],
      [lockKey('shared', 'torn'), 'unreadable'],
    ]);
    expect(first.kept.map((l) => [l.key, l.reason]).sort()).toEqual([
      [lockKey('exclusive', 'live'), 'live'],
      [running.key, 'running'],
    ]);

    const all = await unlock(backend, { clock, removeAll: true });
    expect(all.removed.map((l) => [l.key, l.reason])).toEqual([[lockKey('exclusive', 'live'), 'forced']]);
    expect(all.kept.map((l) => l.key)).toEqual([running.key]);
    await running.release();
  });
});
