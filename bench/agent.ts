/**
 * The agent's benchmark (issue 4): change-to-durable latency and idle cost, with the built CLI
 * watching D2 (100,000 files) and MinIO on loopback.
 *   - latency: 50 single-file changes, one after another; from the file's close to the first
 *     snapshot listing that holds the new content, with the default 2 s quiet period.
 *   - idle: the agent's CPU time (from /proc) and RSS over 60 s of nothing changing, its
 *     overdue-backup watch (a child process) included.
 * Writes bench/results/agent-<date>.json.  npm run build && npm run bench:agent
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { readAll } from '../src/backend/body.js';
import { S3Backend } from '../src/backend/s3/s3-backend.js';
import { decodeManifestBuffer } from '../src/repository/manifest-codec.js';
import { listSnapshots } from '../src/repository/snapshots.js';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';
import { buildDataSet } from './datasets.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/var/tmp/twinvault-bench' },
    changes: { type: 'string', default: '50' },
    idle: { type: 'string', default: '60' },
    // The agent's daily integrity check runs right after its first backup, while the first
    // changes are measured: off, to see what it costs.
    'no-verify': { type: 'boolean', default: false },
  },
});
const CLI = new URL('../dist/twinvault.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const set = await buildDataSet('D2', values.data);
const changesFolder = join(set.root, 'agent-bench');
const minio = await startMinio({ MINIO_SCANNER_SPEED: 'slowest' });
const home = await mkdtemp(join(tmpdir(), 'twinvault-bench-agent-'));
const credentials = { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey };
const env = {
  ...process.env,
  HOME: home,
  XDG_STATE_HOME: join(home, 'state'),
  AWS_ACCESS_KEY_ID: minio.accessKeyId,
  AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_S3: minio.endpoint,
};
let agent: ReturnType<typeof spawn> | undefined;
try {
  await adminClient({ endpoint: minio.endpoint, ...credentials }).send(
    new CreateBucketCommand({ Bucket: 'agent' }),
  );
  const backend = new S3Backend({
    bucket: 'agent',
    prefix: 'repo',
    endpoint: minio.endpoint,
    region: 'us-east-1',
    credentials,
  });
  const config = join(home, 'twinvault.json');
  await writeFile(
    config,
    JSON.stringify({
      repository: 's3://agent/repo',
      sources: [{ path: set.root }],
      host: 'bench',
      ...(values['no-verify'] ? { agent: { verify: { enabled: false } } } : {}),
    }),
  );
  await run(['--config', config, 'init']);
  await rm(changesFolder, { recursive: true, force: true });
  await mkdir(changesFolder);

  agent = spawn(process.execPath, [CLI, '--config', config, '--quiet', 'agent'], { env, stdio: 'inherit' });
  const started = Date.now();
  await until(async () => (await listSnapshots(backend)).length > 0, 600_000);
  console.log(`initial backup by the agent: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const latencies: number[] = [];
  for (let i = 0; i < Number(values.changes); i++) {
    const path = `${set.name}/agent-bench/change-${i}.txt`;
    const content = `change ${i} at ${Date.now()}`;
    await writeFile(join(changesFolder, `change-${i}.txt`), content);
    const closed = performance.now();
    await until(async () => {
      const ref = (await listSnapshots(backend)).at(-1)!;
      const { entries } = decodeManifestBuffer(await readAll(await backend.get(ref.key)), ref.key);
      return entries.some((entry) => entry.path === path);
    }, 60_000);
    latencies.push((performance.now() - closed) / 1000);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

  // Idle: let the last backup settle, then nothing changes.
  await sleep(5000);
  const idleSeconds = Number(values.idle);
  // The agent and its overdue-backup watch (a child process): what the machine pays for both.
  const agentPid = agent.pid!;
  const processes = () => [agentPid, ...childrenOf(agentPid)];
  const cpuOf = () => processes().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const cpuBefore = cpuOf();
  let peakRss = 0;
  let peakWatchRss = 0;
  for (let s = 0; s < idleSeconds; s++) {
    await sleep(1000);
    peakRss = Math.max(
      peakRss,
      processes().reduce((sum, pid) => sum + rssMiB(pid), 0),
    );
    peakWatchRss = Math.max(peakWatchRss, ...childrenOf(agentPid).map(rssMiB));
  }
  const idleCpu = ((cpuOf() - cpuBefore) / idleSeconds) * 100;

  const results = {
    date: new Date().toISOString(),
    files: set.files.length,
    verify: !values['no-verify'],
    /** In the order the changes were made: whether slow ones cluster (e.g. at the start). */
    latencies,
    latency: { changes: latencies.length, p50: p(0.5), p95: p(0.95), max: sorted.at(-1), goalP95: 2 + 1.5 },
    idle: {
      seconds: idleSeconds,
      cpuPercentOfOneCore: idleCpu,
      peakRssMiB: peakRss,
      ofWhichOverdueWatchMiB: peakWatchRss,
      goalCpuPercent: 2,
      goalRssMB: 200,
    },
  };
  console.log(JSON.stringify(results, null, 2));
  console.log(
    `latency p95 ${p(0.95).toFixed(2)} s (goal < 3.5 s); idle ${idleCpu.toFixed(2)}% of a core (goal < 2%), RSS ${peakRss.toFixed(0)} MiB (goal < 200 MB)`,
  );
  await mkdir(new URL('results', import.meta.url).pathname, { recursive: true });
  const file = new URL(`results/agent-${results.date.slice(0, 16).replace(':', '')}.json`, import.meta.url)
    .pathname;
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`written to ${file}`);
} finally {
  agent?.kill('SIGTERM');
  await sleep(1000);
  await rm(changesFolder, { recursive: true, force: true });
  await minio.stop();
  await rm(home, { recursive: true, force: true });
}

async function run(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`twinvault ${args.join(' ')} failed (exit ${code})`);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

/** User and system CPU time of a process, from /proc (clock ticks are 100 per second on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The live child processes of a process (Linux /proc; zombies have no RSS and are left out). */
function childrenOf(pid: number): number[] {
  const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return listed
    ? listed
        .split(' ')
        .map(Number)
        .filter((child) => /^VmRSS:/m.test(readFileSync(`/proc/${child}/status`, 'utf8')))
    : [];
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}
