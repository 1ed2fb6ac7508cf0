import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeleteManyResult, GetOptions } from '../backend/backend.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ForwardingBackend } from '../backend/wrap/forwarding.js';
import { backup } from '../backup/backup.js';
import { ManualClock } from '../clock.js';
import type { ResolvedConfig } from '../config/load.js';
import { DEFAULT_NOTIFICATIONS } from '../config/notifications-schema.js';
import { agentSchema, retentionSchema } from '../config/schema.js';
import { isTwinvaultError } from '../errors.js';
import { SNAPSHOTS_PREFIX } from '../repository/layout.js';
import { initRepository, openRepository } from '../repository/repository.js';
import { listSnapshots } from '../repository/snapshots.js';
import { Agent } from './agent.js';
import type { AgentState } from './state.js';

/**
 * Holds manifest reads until retention has deleted manifests (or a few seconds passed): a verify
 * running beside retention then reads a manifest retention just removed, every time.
 */
class RetentionFirst extends ForwardingBackend {
  manifestsGone = 0;
  private deleted = false;
  private markDeleted!: () => void;
  private readonly gate = new Promise<void>((resolve) => {
    this.markDeleted = resolve;
  });
  override async get(key: string, options?: GetOptions): Promise<Readable> {
    if (key.startsWith(SNAPSHOTS_PREFIX) && !this.deleted) {
      await Promise.race([this.gate, new Promise((resolve) => setTimeout(resolve, 3000))]);
      this.deleted = true; // retention is not running: later reads need not wait
    }
    try {
      return await super.get(key, options);
    } catch (err) {
      if (isTwinvaultError(err) && err.code === 'NOT_FOUND' && key.startsWith(SNAPSHOTS_PREFIX))
        this.manifestsGone++;
      throw err;
    }
  }
  override async deleteMany(keys: Iterable<string>): Promise<DeleteManyResult> {
    const list = [...keys];
    const result = await super.deleteMany(list);
    if (list.some((key) => key.startsWith(SNAPSHOTS_PREFIX))) {
      this.deleted = true;
      this.markDeleted();
    }
    return result;
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A repository with two snapshots of the source already, and an agent (keep-last 1, verify on) ready to start. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'twinvault-maintenance-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const folder = join(dir, 'Documents');
  await mkdir(folder);
  const clock = new ManualClock(new Date());
  const memory = new MemoryBackend('memory://maintenance');
  const repository = await initRepository(memory, { clock });
  const stateFolder = join(dir, 'state');
  for (const round of [1, 2]) {
    await writeFile(join(folder, 'a.txt'), `version ${round}`);
    clock.advance(60_000);
    await backup({ repository, sources: [{ path: folder }], host: 'laptop', stateFolder, clock });
  }
  await writeFile(join(folder, 'a.txt'), 'version 3');
  const store = new RetentionFirst(memory);
  const config: ResolvedConfig = {
    configFile: undefined,
    repository: { url: 'memory://maintenance' },
    repositoryOrigin: 'file',
    sources: [{ path: folder }],
    host: 'laptop',
    agent: agentSchema.parse({ schedule: { every: '1h' } }),
    replicas: [],
    retention: retentionSchema.parse({ keepLast: 1 }),
    prices: {},
    notifications: DEFAULT_NOTIFICATIONS,
  };
  const start = async (previousState?: Partial<AgentState>) => {
    const states: AgentState[] = [];
    const agent = new Agent({
      loadConfig: async () => config,
      openRepository: async () => ({
        repository: await openRepository(store),
        location: 'memory://maintenance',
        close: async () => {},
      }),
      openForMaintenance: async () => store,
      host: () => 'laptop',
      stateFolder,
      ownFiles: [],
      logger: pino({ level: 'silent' }),
      saveState: async (state) => {
        states.push(structuredClone(state));
      },
      clock,
      ...(previousState ? { previousState } : {}),
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    const deadline = Date.now() + 20_000;
    while (!states.some((s) => s.sources[0]?.lastSuccess) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await agent.stop(); // lets retention and verify finish
    return states.at(-1)!;
  };
  return { memory, store, clock, start };
}

describe("the agent's retention and verify", () => {
  it('at start, verify runs after retention: no manifest read after it went, no problem reported', async () => {
    const { memory, store, start } = await setup();
    const state = await start();
    expect(await listSnapshots(memory)).toHaveLength(1);
    expect(store.manifestsGone).toBe(0);
    expect(state.verify).toMatchObject({ ok: true, problems: 0, snapshots: 1 });
    expect(state.retention?.lastRun).toBeDefined();
  });

  it('runs retention daily, not at every start: the last run is kept in the agent state', async () => {
    const { memory, clock, start } = await setup();
    const hourAgo = new Date(clock.now().getTime() - 3_600_000).toISOString();
    const state = await start({ retention: { lastRun: hourAgo } });
    expect(await listSnapshots(memory)).toHaveLength(3);
    expect(state.retention).toEqual({ lastRun: hourAgo });

    // A day later (a restart, with the state saved before it), retention is due again.
    clock.advance(86_400_000);
    const next = await start(state);
    expect(await listSnapshots(memory)).toHaveLength(1);
    expect(Date.parse(next.retention!.lastRun)).toBeGreaterThan(Date.parse(hourAgo));
  });

  it('a damaged or future last run in the state does not stop retention for good', async () => {
    const { memory, clock, start } = await setup();
    const future = new Date(clock.now().getTime() + 365 * 86_400_000).toISOString();
    await start({ retention: { lastRun: future } });
    expect(await listSnapshots(memory)).toHaveLength(1);
    await start({ retention: 'garbage' } as unknown as Partial<AgentState>);
  });
});
