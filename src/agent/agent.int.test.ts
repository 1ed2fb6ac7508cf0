import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../test/cli.js';
import { startReceiver } from '../../test/http-receiver.js';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import { FaultyProxy } from '../../test/servers/faulty-proxy.js';
import { freePort } from '../../test/servers/process.js';
import type { Backend } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { signature } from '../notify/channels/webhook.js';
import { decodeManifestBuffer } from '../repository/manifest-codec.js';
import { listSnapshots } from '../repository/snapshots.js';
import { agentFiles } from './agent-files.js';
import type { AgentState } from './state.js';

const minio = s3Server('minio');

/** The live child processes of a process (Linux /proc), e.g. the agent's overdue watch. */
function childrenOf(pid: number): number[] {
  const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return listed ? listed.split(' ').map(Number).filter(isRunning) : [];
}

function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls until `check` returns a value (not undefined); generous, as the tests never assert on timing. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(!minio)('twinvault agent (real watcher, MinIO)', () => {
  let work: string;
  let home: string;
  let source: string;
  let configFile: string;
  let env: NodeJS.ProcessEnv;
  let proxy: FaultyProxy;
  let backend: Backend;
  let cleanup: () => Promise<void>;
  let config: object;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-agent-'));
    home = join(work, 'home');
    source = join(work, 'Documents');
    await mkdir(home);
    await mkdir(source);
    const bucket = await createTestBucket(minio!, 'agent');
    cleanup = bucket.cleanup;
    proxy = await new FaultyProxy(minio!.endpoint).start();
    receiver = await startReceiver();
    backend = testBackend(minio!, bucket.bucket, { prefix: 'backups' });
    configFile = join(work, 'twinvault.json');
    config = {
      repository: { url: `s3://${bucket.bucket}/backups`, endpoint: proxy.endpoint, maxAttempts: 1 },
      sources: [{ path: source }],
      host: 'desk',
      agent: {
        quietPeriod: '300ms',
        maxDelay: '5s',
        schedule: { every: '1h' },
        retry: { min: '500ms', max: '2s' },
      },
      notifications: {
        channels: [
          { type: 'webhook', name: 'hook', url: `${receiver.url}/hook`, secret: { env: 'HOOK_SECRET' } },
          { type: 'heartbeat', name: 'hc', url: `${receiver.url}/ping` },
        ],
        storageUnreachableAfter: '2s',
        checkEvery: '200ms',
      },
    };
    await writeFile(configFile, JSON.stringify(config));
    env = {
      AWS_ACCESS_KEY_ID: minio!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio!.secretAccessKey,
      AWS_REGION: 'us-east-1',
      HOOK_SECRET: 'hook-secret',
    };
    const init = await runCli(['--config', configFile, 'init'], { cwd: work, home, env });
    expect(init.stderr).toBe('');
  });
  afterAll(async () => {
    await proxy.stop();
    await receiver.stop();
    await cleanup();
    await rm(work, { recursive: true, force: true });
  });

  const files = () => agentFiles(join(home, '.local', 'state', 'twinvault'), configFile);

  function startAgent(extra: string[] = []): ChildProcess & { output: () => string } {
    const child = startCli(['--config', configFile, 'agent', ...extra], { cwd: work, home, env });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    return Object.assign(child, { output: () => output });
  }

  async function stopAgent(child: ChildProcess): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    return exited;
  }

  /** The newest snapshot's entries as "path" (folders end in "/") with file digests. */
  async function latest() {
    const refs = await listSnapshots(backend);
    const ref = refs.at(-1);
    if (!ref) return undefined;
    const { entries } = decodeManifestBuffer(await readAll(await backend.get(ref.key)), ref.key);
    return {
      count: refs.length,
      paths: entries.map((entry) => (entry.type === 'dir' ? `${entry.path}/` : entry.path)).sort(),
      sha256: new Map(
        entries.flatMap((entry) => (entry.type === 'file' ? [[entry.path, entry.sha256]] : [])),
      ),
    };
  }

  const untilLatestHas = (paths: string[]) =>
    eventually(`a snapshot holding exactly ${paths.join(', ')}`, async () => {
      const snapshot = await latest();
      return snapshot && JSON.stringify(snapshot.paths) === JSON.stringify([...paths].sort())
        ? snapshot
        : undefined;
    });

  const readState = async () => JSON.parse(await readFile(files().state, 'utf8')) as AgentState;

  it('keeps the snapshots exactly in step with the folder through changes, outages, reloads and restarts', async () => {
    await writeFile(join(source, 'a.txt'), 'a');
    await mkdir(join(source, 'old'));
    await writeFile(join(source, 'old', 'b.txt'), 'b');
    const agent = startAgent();
    await untilLatestHas(['Documents/', 'Documents/a.txt', 'Documents/old/', 'Documents/old/b.txt']);

    // Created, modified, deleted, renamed: files and folders.
    await writeFile(join(source, 'a.txt'), 'a, edited');
    await writeFile(join(source, 'c.txt'), 'c');
    await rename(join(source, 'old'), join(source, 'new'));
    await mkdir(join(source, 'extra', 'deep'), { recursive: true });
    await writeFile(join(source, 'extra', 'deep', 'd.txt'), 'd');
    await rm(join(source, 'c.txt'));
    await rename(join(source, 'extra', 'deep', 'd.txt'), join(source, 'extra', 'd.txt'));
    const edited = await untilLatestHas([
      'Documents/',
      'Documents/a.txt',
      'Documents/new/',
      'Documents/new/b.txt',
      'Documents/extra/',
      'Documents/extra/deep/',
      'Documents/extra/d.txt',
    ]);
    expect(edited.sha256.get('Documents/a.txt')).toBe(createHash('sha256').update('a, edited').digest('hex'));

    // One agent per config.
    const second = await runCli(['--config', configFile, 'agent'], { cwd: work, home, env });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`already running (pid ${agent.pid}`);

    // The store goes away: changes wait and arrive once it is back.
    proxy.down = true;
    await writeFile(join(source, 'during-outage.txt'), 'kept');
    const failing = await eventually('a failed run in the state file', async () => {
      const state = await readState();
      return state.sources[0]?.lastRun?.outcome === 'failed' ? state : undefined;
    });
    expect(failing.sources[0]!.lastError?.message).toBeTruthy();
    const status = JSON.parse(
      (await runCli(['--config', configFile, '--json', 'status'], { cwd: work, home, env })).stdout,
    );
    expect(status.agent).toMatchObject({ running: true, pid: agent.pid });
    // Owed, or taken by a retry already under way (the retry may start while `status` runs).
    expect(status.sources[0].pendingChanges + (status.sources[0].running?.changes ?? 0)).toBeGreaterThan(0);
    // Down longer than storageUnreachableAfter: told once, signed; `status` shows it raised.
    const [down] = await receiver.waitFor(1, (r) => r.path === '/hook', 30_000);
    expect(JSON.parse(down!.body)).toMatchObject({
      event: 'storage-unreachable',
      state: 'problem',
      host: 'desk',
    });
    expect(down!.headers['x-twinvault-signature']).toBe(
      signature('hook-secret', down!.headers['x-twinvault-timestamp'] as string, down!.body),
    );
    const raised = JSON.parse(
      (await runCli(['--config', configFile, '--json', 'status'], { cwd: work, home, env })).stdout,
    );
    expect(raised.alerts).toMatchObject([{ event: 'storage-unreachable' }]);
    proxy.down = false;
    await untilLatestHas([...edited.paths, 'Documents/during-outage.txt']);
    const hooks = await receiver.waitFor(2, (r) => r.path === '/hook', 30_000);
    expect(hooks.map((r) => JSON.parse(r.body).state)).toEqual(['problem', 'recovered']);
    expect(receiver.received.filter((r) => r.path === '/ping').length).toBeGreaterThan(1);

    // A broken config on SIGHUP is reported; the agent goes on with the one in force.
    await writeFile(configFile, '{ "sources": [ broken');
    agent.kill('SIGHUP');
    await eventually('the reload failure in the log', async () =>
      agent.output().includes('config reload failed') ? true : undefined,
    );
    await writeFile(join(source, 'after-bad-reload.txt'), 'still watched');
    await untilLatestHas([...edited.paths, 'Documents/during-outage.txt', 'Documents/after-bad-reload.txt']);
    await writeFile(configFile, JSON.stringify(config));

    // A clean stop removes the pid lock.
    expect(await stopAgent(agent)).toBe(0);
    await expect(readFile(files().pid)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(agent.output()).toContain('"msg":"backup finished"');
  });

  it.skipIf(process.platform === 'win32')(
    "has a dead man's switch of its own process that tells when a frozen agent's backups are overdue",
    async () => {
      await writeFile(configFile, JSON.stringify({ ...config, sources: [{ path: source, rpo: '3s' }] }));
      const overdue = (state: string) => (r: { path: string; body: string }) =>
        r.path === '/hook' &&
        JSON.parse(r.body).event === 'backup-overdue' &&
        JSON.parse(r.body).state === state;
      const agent = startAgent();
      try {
        // (Not the state file: the one the previous agent left says it succeeded.)
        await eventually('the scan at start', async () =>
          /"msg":"(backup finished|nothing changed; no snapshot written)"/.test(agent.output())
            ? true
            : undefined,
        );
        // Frozen, as by a hung mount: no timer of the agent's runs any more; the watch's do.
        process.kill(agent.pid!, 'SIGSTOP');
        try {
          const [told] = await receiver.waitFor(1, overdue('problem'), 30_000);
          expect(JSON.parse(told!.body)).toMatchObject({
            host: 'desk',
            subject: { kind: 'source', name: 'Documents' },
          });
          // The watch saves its alert book just after telling the channels: status may look between.
          const alerts = await eventually('the alert in status', async () => {
            const status = JSON.parse(
              (await runCli(['--config', configFile, '--json', 'status'], { cwd: work, home, env })).stdout,
            );
            return status.alerts.length > 0 ? status.alerts : undefined;
          });
          expect(alerts).toMatchObject([{ event: 'backup-overdue' }]);
        } finally {
          process.kill(agent.pid!, 'SIGCONT');
        }
        await writeFile(join(source, 'thawed.txt'), 'the agent moves again');
        await receiver.waitFor(1, overdue('recovered'), 30_000);
        expect(agent.output()).toContain('"from":"overdue-watch"');

        // A watch that dies is started again.
        const [watch] = childrenOf(agent.pid!);
        process.kill(watch!, 'SIGKILL');
        const [again] = await eventually('a new watch process', async () => {
          const now = childrenOf(agent.pid!).filter((pid) => pid !== watch);
          return now.length > 0 ? now : undefined;
        });
        expect(agent.output()).toContain('the overdue-backup watch process ended; starting it again');
        expect(await stopAgent(agent)).toBe(0);
        expect(isRunning(again!)).toBe(false); // it ends with the agent
      } finally {
        if (agent.exitCode === null) await stopAgent(agent);
        await writeFile(configFile, JSON.stringify(config));
      }
    },
  );

  it('catches at start what changed while it was stopped, and recovers from SIGKILL mid-upload', async () => {
    const big = randomBytes(24 * 1024 * 1024);
    await writeFile(join(source, 'big.bin'), big);
    const first = startAgent();
    await eventually('the upload to start', async () =>
      first.output().includes('backup started') ? true : undefined,
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.on('exit', resolve));

    await writeFile(join(source, 'while-stopped.txt'), 'changed while no agent ran');
    // A file backed up within 2 s of its last change is read again by the next backup ("racy", as
    // git calls it), which would then write a snapshot: let that time pass, for the last check.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const again = startAgent();
    const snapshot = await eventually('a snapshot with both files', async () => {
      const current = await latest();
      return current?.sha256.has('Documents/while-stopped.txt') && current.sha256.has('Documents/big.bin')
        ? current
        : undefined;
    });
    expect(snapshot.sha256.get('Documents/big.bin')).toBe(createHash('sha256').update(big).digest('hex'));
    expect(await stopAgent(again)).toBe(0);

    // Nothing changed since: the scan at start writes no snapshot.
    const quiet = startAgent();
    await eventually('the scan at start to finish', async () =>
      quiet.output().includes('nothing changed; no snapshot written') ? true : undefined,
    );
    expect((await latest())!.count).toBe(snapshot.count);
    expect(await stopAgent(quiet)).toBe(0);
  });

  it('copies each snapshot it makes to a replica configured with afterBackup, a full pass first', async () => {
    const replicaBucket = await createTestBucket(minio!, 'agent-replica');
    const replica = testBackend(minio!, replicaBucket.bucket, { prefix: 'backups' });
    await writeFile(
      configFile,
      JSON.stringify({
        ...config,
        replicas: [{ url: `s3://${replicaBucket.bucket}/backups`, endpoint: minio!.endpoint }],
      }),
    );
    const sameSnapshots = async () => {
      const [a, b] = await Promise.all([listSnapshots(backend), listSnapshots(replica)]);
      return JSON.stringify(a) === JSON.stringify(b) ? a : undefined;
    };
    try {
      await writeFile(join(source, 'replicated.txt'), 'to the replica');
      const metricsPort = await freePort();
      const agent = startAgent(['--metrics', String(metricsPort)]);
      // The full pass at the first backup brings every earlier snapshot along.
      const before = await eventually('the replica to hold every snapshot', sameSnapshots);
      await writeFile(join(source, 'replicated.txt'), 'to the replica, edited');
      await eventually('a new snapshot in the replica too', async () => {
        const now = await sameSnapshots();
        return now && now.length > before.length ? now : undefined;
      });
      expect(agent.output()).toContain('replica brought up to date (full pass)');
      // --metrics: the backups and the repository's requests, on loopback.
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/^twinvault_backup_last_success_timestamp_seconds\{source="Documents"\} \d+/m);
      expect(metrics).toMatch(/^twinvault_storage_requests_total\{operation="put",outcome="ok"\} [1-9]/m);
      expect(metrics).toMatch(/^twinvault_replica_pending_objects\{replica="s3:\/\/[^"]+"\} 0$/m);
      expect(metrics).toMatch(/^twinvault_replica_lag_seconds\{replica="s3:\/\/[^"]+"\} 0$/m);
      expect(metrics).toMatch(
        /^twinvault_replica_last_success_timestamp_seconds\{replica="s3:\/\/[^"]+"\} \d+/m,
      );
      expect(agent.output()).toContain('snapshot replicated');
      expect(await stopAgent(agent)).toBe(0);
    } finally {
      await writeFile(configFile, JSON.stringify(config));
      await replicaBucket.cleanup();
    }
  });
});
