import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type ReceivedRequest, startReceiver } from '../../test/http-receiver.js';
import type { Backend } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ForwardingBackend, type Operation } from '../backend/wrap/forwarding.js';
import { ManualClock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import { notificationsSchema } from '../config/notifications-schema.js';
import { agentSchema } from '../config/schema.js';
import { AccessDeniedError, StorageError, StorageUnreachableError } from '../errors.js';
import { AlertBook } from '../notify/alert-book.js';
import type { Notice } from '../notify/notice.js';
import { Notifier } from '../notify/notifier.js';
import { ReplicaLag } from '../replicate/replica-lag.js';
import { initRepository, openRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { Agent } from './agent.js';
import { AgentAlerts, type AlertedSource } from './alerts.js';
import { OverdueWatch } from './overdue.js';
import type { AgentState } from './state.js';

/** A repository whose requests can be held (a hung connection) or failed, like a sick store. */
class SickBackend extends ForwardingBackend {
  hold: Promise<void> | undefined;
  failWith: Error | undefined;
  protected override async around<T>(_op: Operation, _key: string | undefined, call: () => Promise<T>) {
    await this.hold;
    if (this.failWith) throw this.failWith;
    return call();
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Setup {
  channels?: unknown[];
  respond?: (request: ReceivedRequest) => number | 'hang';
  notifications?: Record<string, unknown>;
  replicaBackend?: () => Promise<Backend>;
  sourceExists?: boolean;
}

async function agentWithAlerts(setup: Setup = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'twinvault-alerts-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const folder = join(dir, 'Documents');
  if (setup.sourceExists !== false) {
    await mkdir(folder);
    await writeFile(join(folder, 'a.txt'), 'alpha');
  }
  const receiver = await startReceiver(setup.respond);
  cleanups.push(receiver.stop);
  // Time runs five times as fast (retries come), and jumps when a test says so.
  const clock = new ManualClock(new Date());
  const ticker = setInterval(() => clock.advance(50), 10);
  cleanups.push(async () => clearInterval(ticker));
  const memory = new MemoryBackend('memory://alerts');
  await initRepository(memory, { clock });
  const store = new SickBackend(memory);
  const config: ResolvedConfig = {
    configFile: undefined,
    repository: { url: 'memory://alerts' },
    repositoryOrigin: 'file',
    sources: [{ path: folder }],
    host: 'laptop',
    agent: agentSchema.parse({
      schedule: { every: '1h' },
      retry: { min: '20ms', max: '40ms' },
      verify: { enabled: false },
    }),
    replicas: setup.replicaBackend
      ? [
          {
            url: pathToFileURL(join(dir, 'replica')).href,
            deletes: 'keep',
            afterBackup: true,
            concurrency: 4,
          },
        ]
      : [],
    retention: undefined,
    prices: {},
    notifications: notificationsSchema.parse({
      channels: setup.channels ?? [
        { type: 'webhook', name: 'hook', url: `${receiver.url}/hook` },
        { type: 'heartbeat', name: 'hc', url: `${receiver.url}/ping`, failUrl: `${receiver.url}/ping/fail` },
      ],
      checkEvery: '20ms',
      ...setup.notifications,
    }),
  };
  const states: AgentState[] = [];
  const agent = new Agent({
    loadConfig: async () => config,
    openRepository: async () => ({
      repository: await openRepository(store),
      location: 'memory://alerts',
      close: async () => {},
    }),
    host: () => 'laptop',
    stateFolder: join(dir, 'state'),
    ownFiles: [],
    logger: pino({ level: 'silent' }),
    saveState: async (state) => {
      states.push(structuredClone(state));
    },
    clock,
    alertsFile: join(dir, 'state', 'alerts.json'),
    notifyRetry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 },
    ...(setup.replicaBackend
      ? {
          openForReplication: (settings) =>
            settings.url.endsWith('/replica') ? setup.replicaBackend!() : Promise.resolve(store),
        }
      : {}),
  });
  cleanups.push(() => agent.stop());
  const hooks = () =>
    receiver.received
      .filter((r) => r.path === '/hook')
      .map((r) => JSON.parse(r.body) as { event: string; state: string; error: string | null; text: string });
  /** Backups that ended well (the state is saved once more after each). */
  const successes = () => new Set(states.map((s) => s.sources[0]?.lastSuccess?.at).filter(Boolean)).size;
  const attempts = () => states.filter((s) => s.sources[0]?.running).length;
  return { agent, clock, store, memory, receiver, hooks, folder, dir, states, successes, attempts, config };
}

describe("the agent's alerts", () => {
  it('tells of an overdue backup from its own timer while the backup path hangs, and of its recovery once', async () => {
    const t = await agentWithAlerts();
    let release!: () => void;
    t.store.hold = new Promise((resolve) => {
      release = resolve;
    });
    await t.agent.start();
    await eventually('the backup to start', () => t.states.find((s) => s.sources[0]?.running));

    // The schedule is hourly, so the RPO is 2 h: one minute past it the timer speaks up.
    t.clock.advance(2 * 3_600_000 + 60_000);
    const [overdue] = await eventually('the overdue alert', () => {
      const found = t.hooks().filter((h) => h.event === 'backup-overdue');
      return found.length > 0 ? found : undefined;
    });
    expect(overdue).toMatchObject({ state: 'problem' });
    expect(overdue!.text).toMatch(/has had no successful backup since .*its RPO is 2 h/);
    expect(t.states.at(-1)!.sources[0]!.running).toBeDefined(); // the backup is still stuck

    release();
    t.store.hold = undefined;
    await eventually('the recovery', () =>
      t.hooks().find((h) => h.event === 'backup-overdue' && h.state === 'recovered'),
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // many more checks: nothing new is sent
    expect(t.hooks().map((h) => `${h.event} ${h.state}`)).toEqual([
      'backup-overdue problem',
      'backup-overdue recovered',
    ]);
    expect(t.receiver.received.filter((r) => r.path === '/ping')).toHaveLength(1);
  });

  it('tells of a failing backup once however often it is retried, pings the fail URL, then tells of the recovery', async () => {
    const t = await agentWithAlerts();
    t.store.failWith = new AccessDeniedError('access denied to memory://alerts (the key was revoked)');
    await t.agent.start();
    await eventually('three attempts', () => (t.attempts() >= 3 ? true : undefined));
    t.store.failWith = undefined;
    await eventually('the recovery', () => t.hooks().find((h) => h.state === 'recovered'));
    const hooks = t.hooks();
    expect(hooks.map((h) => `${h.event} ${h.state}`)).toEqual([
      'backup-failed problem',
      'backup-failed recovered',
    ]);
    expect(hooks[0]!.error).toBe('access denied to memory://alerts (the key was revoked)');
    expect(hooks[0]!.text).toMatch(/Failed attempts: 1\n/);
    expect(t.receiver.received.filter((r) => r.path === '/ping/fail')).toHaveLength(1);
    expect(t.receiver.received.filter((r) => r.path === '/ping')).toHaveLength(1);
    // The book on disk says nothing is raised any more (a restart will not repeat anything).
    await t.agent.stop();
    const book = JSON.parse(await readFile(join(t.dir, 'state', 'alerts.json'), 'utf8'));
    expect(book.raised).toEqual({});
  });

  it('counts a missing source folder (a disk not mounted) as a failure, not as a backup with files skipped', async () => {
    const t = await agentWithAlerts({ sourceExists: false });
    await t.agent.start();
    const failed = await eventually('the alert', () => t.hooks().find((h) => h.event === 'backup-failed'));
    expect(failed.error).toMatch(/the source folder .*Documents does not exist/);
    expect(failed.text).toMatch(
      /What to do: check that it exists and is readable .*a disk that is not mounted/,
    );
    // No empty snapshot stands in for the folder, and the agent counts no success.
    expect(await listSnapshots(t.memory)).toEqual([]);
    expect(t.states.at(-1)!.sources[0]).toMatchObject({ lastRun: { outcome: 'failed' } });
    expect(t.states.at(-1)!.sources[0]!.lastSuccess).toBeUndefined();
    expect(t.receiver.received.filter((r) => r.path === '/ping')).toHaveLength(0);
    expect(t.receiver.received.filter((r) => r.path === '/ping/fail')).toHaveLength(1);
    await mkdir(t.folder);
    t.clock.advance(3_600_000); // the next full scan
    await t.agent.reload();
    await eventually('the recovery', () => t.hooks().find((h) => h.state === 'recovered'));
    expect(t.hooks().map((h) => `${h.event} ${h.state}`)).toEqual([
      'backup-failed problem',
      'backup-failed recovered',
    ]);
  });

  it('counts an emptied source folder (a mount point without its disk) as a failure, saying so, with no empty snapshot', async () => {
    const t = await agentWithAlerts();
    await t.agent.start();
    await eventually('the first backup', () => (t.successes() >= 1 ? true : undefined));
    await rm(join(t.folder, 'a.txt'));
    t.clock.advance(3_600_000); // the next full scan, if the watcher's run has not failed first
    await t.agent.reload();
    const failed = await eventually('the alert', () => t.hooks().find((h) => h.event === 'backup-failed'));
    expect(failed.error).toMatch(
      /^the source folder .*Documents is empty, but its last snapshot \(laptop\/\d{8}_\d{6}\) held 1 file$/,
    );
    expect(failed.text).toMatch(/What to do: is a disk not mounted\? Mount it and run the backup again\. /);
    expect(failed.text).toContain('"allowEmpty": true');
    expect(await listSnapshots(t.memory)).toHaveLength(1);
    expect(t.states.at(-1)!.sources[0]).toMatchObject({ lastRun: { outcome: 'failed' } });

    // Emptied on purpose: allowed in the config, the next run backs it up and the alert recovers.
    t.config.sources = [{ ...t.config.sources[0]!, allowEmpty: true }];
    await t.agent.reload();
    await eventually('the recovery', () => t.hooks().find((h) => h.state === 'recovered'));
    expect(await listSnapshots(t.memory)).toHaveLength(2);
  });

  it('tells of storage failing only once it has lasted storageUnreachableAfter, never as a failed backup', async () => {
    const t = await agentWithAlerts({ notifications: { storageUnreachableAfter: '10m' } });
    t.store.failWith = new StorageUnreachableError('cannot reach memory://alerts: ECONNREFUSED');
    await t.agent.start();
    await eventually('a failed attempt', () =>
      t.states.some((s) => s.sources[0]?.lastRun?.outcome === 'failed') ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(t.hooks()).toEqual([]);
    t.clock.advance(11 * 60_000);
    const alert = await eventually('the storage alert', () =>
      t.hooks().find((h) => h.event === 'storage-unreachable'),
    );
    expect(alert.error).toBe('cannot reach memory://alerts: ECONNREFUSED');
    t.store.failWith = undefined;
    await eventually('the recovery', () => t.hooks().find((h) => h.state === 'recovered'));
    expect(t.hooks().map((h) => `${h.event} ${h.state}`)).toEqual([
      'storage-unreachable problem',
      'storage-unreachable recovered',
    ]);
  });

  it('keeps backing up while a channel hangs', async () => {
    const stuck = await startReceiver(() => 'hang');
    cleanups.push(stuck.stop);
    const t = await agentWithAlerts({
      channels: [{ type: 'heartbeat', name: 'stuck', url: `${stuck.url}/ping` }],
    });
    await t.agent.start();
    await eventually('the first backup', () => (t.successes() > 0 ? true : undefined));
    await stuck.waitFor(1);
    // The heartbeat of the first backup hangs; the next scheduled backup runs regardless.
    const before = t.successes();
    t.clock.advance(3_600_000 + 1000);
    await t.agent.reload();
    await eventually('the second backup', () => (t.successes() > before ? true : undefined));
    expect(stuck.received).toHaveLength(1); // the second ping still waits behind the first
    await stuck.stop();
  });

  it('tells of a replica lagging past replicationLagOver, and that it caught up', async () => {
    let replicaDown = true;
    const replica = new MemoryBackend('memory://replica');
    const t = await agentWithAlerts({
      notifications: { replicationLagOver: '1h' },
      replicaBackend: async () => {
        if (replicaDown) throw new StorageUnreachableError('cannot reach memory://replica: ETIMEDOUT');
        return replica;
      },
    });
    await t.agent.start();
    await eventually('the first backup', () => (t.successes() > 0 ? true : undefined));
    t.clock.advance(3_600_000 + 60_000);
    const lag = await eventually('the lag alert', () => t.hooks().find((h) => h.event === 'replication-lag'));
    expect(lag.error).toContain('ETIMEDOUT');
    expect(lag.text).toContain('the limit is 1 h');

    replicaDown = false;
    await writeFile(join(t.folder, 'b.txt'), 'bravo');
    t.clock.advance(3_600_000); // the next full scan finds b.txt: a new snapshot goes to the replica
    await t.agent.reload();
    await eventually('the recovery', () =>
      t.hooks().find((h) => h.event === 'replication-lag' && h.state === 'recovered'),
    );
  });
});

/** A notifier that records what it is asked to send. */
class RecordingNotifier extends Notifier {
  readonly sent: Notice[] = [];
  readonly pings: string[] = [];
  constructor() {
    super([], { log: pino({ level: 'silent' }), clock: new ManualClock() });
  }
  override notify(notice: Notice): void {
    this.sent.push(notice);
  }
  override heartbeat(ok: boolean, source: string): void {
    this.pings.push(`${ok ? 'ok' : 'fail'} ${source}`);
  }
}

describe('AgentAlerts on its own', () => {
  async function alerts(sources: Array<Partial<AlertedSource>> = [{}], configFile?: string) {
    const clock = new ManualClock('2026-11-23T00:30:00Z'); // a Monday
    const notifier = new RecordingNotifier();
    const log = pino({ level: 'silent' });
    const book = await AlertBook.open(notifier, () => 'laptop', log);
    const lag = new ReplicaLag(clock);
    const replicas = { lag, urls: () => ['s3://replica/laptop'] };
    const overdue = new OverdueWatch(book, clock, log);
    const agentAlerts = new AgentAlerts(book, notifier, clock, log, replicas, overdue);
    const watched = sources.map((s) => ({
      name: 'Documents',
      path: '/home/ann/My Documents',
      schedule: { every: 3_600_000 },
      rpo: undefined,
      ...s,
    }));
    agentAlerts.configure(
      {
        configFile,
        repository: { url: 's3://ann-backups/tv' },
        notifications: notificationsSchema.parse({ checkEvery: '1h' }),
      } as ResolvedConfig,
      watched,
      'laptop',
    );
    cleanups.push(() => agentAlerts.stop());
    const events = () => notifier.sent.map((n) => `${n.event} ${n.state} ${n.subject.name}`);
    return { agentAlerts, overdue, clock, notifier, events, lag, watched };
  }

  it('tells of skipped files, then of every file read again', async () => {
    const t = await alerts();
    const source = t.watched[0]!;
    t.agentAlerts.backupSucceeded(source, {
      started: t.clock.now(),
      snapshot: 'laptop/20261123_003000',
      skipped: [{ path: 'Documents/taxes.pdf', reason: 'permission denied' }],
    });
    t.agentAlerts.backupSucceeded(source, { started: t.clock.now(), snapshot: undefined, skipped: [] });
    expect(t.events()).toEqual(['backup-partial problem Documents', 'backup-partial recovered Documents']);
    expect(t.notifier.sent[0]!.details).toMatchObject({
      skippedFiles: 1,
      snapshot: 'laptop/20261123_003000',
    });
    expect(t.notifier.pings).toEqual(['ok Documents', 'ok Documents']);
  });

  it('tells of verify problems and of a verify that cannot run apart, and ignores storage being down', async () => {
    const t = await alerts();
    const at = t.clock.now().toISOString();
    t.agentAlerts.verified({ at, ok: false, problems: 0, error: 'no answer', code: 'STORAGE_UNREACHABLE' });
    expect(t.events()).toEqual([]);
    t.agentAlerts.verified({
      at,
      ok: false,
      problems: 0,
      error: 'manifest reader crashed',
      code: 'INTERNAL',
    });
    t.agentAlerts.verified({ at, ok: false, problems: 2, firstProblems: ['missing: a', 'corrupt: b'] });
    t.agentAlerts.verified({ at, ok: true, problems: 0 });
    expect(t.events()).toEqual([
      'verify-problems problem verify',
      'verify-problems recovered verify',
      'verify-problems problem repository',
      'verify-problems recovered repository',
    ]);
    expect(t.notifier.sent[2]!.details).toEqual({ problems: 2, firstProblems: ['missing: a', 'corrupt: b'] });
  });

  it('counts a cron source overdue after two scheduled scans without a success, and honours rpo', async () => {
    // Weekdays at 02:00 (local time, as cron is): the success on Friday is not overdue over the
    // weekend, only once Monday's and Tuesday's scans have passed without one.
    const t = await alerts([
      { name: 'weekdays', schedule: { cron: '0 2 * * 1-5' } },
      { name: 'tight', schedule: { every: 3_600_000 }, rpo: 30 * 60_000 },
    ]);
    const friday = new Date(2026, 10, 20, 3, 0);
    t.clock.advance(friday.getTime() - t.clock.now().getTime());
    for (const source of t.watched)
      t.agentAlerts.backupSucceeded(source, { started: friday, snapshot: undefined, skipped: [] });
    t.clock.advance(31 * 60_000);
    t.overdue.check();
    expect(t.events()).toEqual(['backup-overdue problem tight']);
    t.clock.advance(new Date(2026, 10, 23, 23, 0).getTime() - t.clock.now().getTime()); // Monday night
    t.overdue.check();
    expect(t.events()).toEqual(['backup-overdue problem tight']);
    t.clock.advance(new Date(2026, 10, 24, 3, 0).getTime() - t.clock.now().getTime()); // Tuesday 03:00
    t.overdue.check();
    expect(t.events()).toEqual(['backup-overdue problem tight', 'backup-overdue problem weekdays']);
  });

  it("suggests commands with the agent's --config, quoted for the shell", async () => {
    const t = await alerts([{}], '/etc/twinvault/my config.json');
    t.agentAlerts.backupFailed(
      t.watched[0]!,
      new AccessDeniedError('access denied', { hint: 'check the key.' }),
      1,
      t.clock.now(),
    );
    expect(t.notifier.sent[0]!.next).toBe(
      "check the key. The agent retries by itself; to see the error first hand run `twinvault --config '/etc/twinvault/my config.json' backup '/home/ann/My Documents'`",
    );
  });

  it('does not take a 4xx from the store for an outage: told at once, with its hint', async () => {
    const t = await alerts();
    t.agentAlerts.backupFailed(
      t.watched[0]!,
      new StorageError('clock skewed', { hint: 'synchronise the clock' }),
      1,
      t.clock.now(),
    );
    t.agentAlerts.backupFailed(
      t.watched[0]!,
      new StorageError('HTTP 503', { retryable: true }),
      2,
      t.clock.now(),
    );
    expect(t.events()).toEqual(['backup-failed problem Documents']);
    expect(t.notifier.sent[0]!.next).toMatch(/^synchronise the clock\. /);
  });

  it('forgets the alerts of a source taken out of the config without calling it recovered', async () => {
    const t = await alerts();
    t.agentAlerts.backupFailed(t.watched[0]!, new AccessDeniedError('denied'), 1, t.clock.now());
    t.agentAlerts.configure(
      {
        repository: { url: 's3://ann-backups/tv' },
        notifications: notificationsSchema.parse({}),
      } as ResolvedConfig,
      [],
      'laptop',
    );
    expect(t.events()).toEqual(['backup-failed problem Documents']);
  });

  it('keeps a replica behind across a restart, and says it caught up only once a pass found it complete', async () => {
    const t = await alerts();
    const lagEvents = () => t.events().filter((e) => e.startsWith('replication-lag'));
    t.lag.behind('s3://replica/laptop', 'ETIMEDOUT');
    t.clock.advance(3 * 3_600_000);
    t.agentAlerts.check();
    expect(lagEvents()).toEqual(['replication-lag problem s3://replica/laptop']);
    // As after a restart: the lag tracker knows nothing; the alert stays, unresolved.
    t.lag.keepOnly(new Set());
    t.agentAlerts.check();
    expect(lagEvents()).toEqual(['replication-lag problem s3://replica/laptop']);
    t.lag.caughtUp('s3://replica/laptop');
    t.agentAlerts.check();
    expect(lagEvents()).toEqual([
      'replication-lag problem s3://replica/laptop',
      'replication-lag recovered s3://replica/laptop',
    ]);
  });
});
