/**
 * The resume benchmark (issue 17): a first backup of D1 to MinIO is killed (SIGKILL of the CLI)
 * once about half of D1's bytes are stored; the next backup runs to the end. Reported per round:
 * the share of D1's bytes stored when the first run died, and the share the second run uploaded
 * (goal: at most 55%; before resuming existed, a second run uploaded 100%). Each round uses a
 * fresh repository and state folder. Writes bench/results/resume-<date>.json.
 *
 *   npm run build && npm run bench:resume -- [--rounds 3] [--kill-at 0.5] [--data /var/tmp/twinvault-bench]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';
import { buildDataSet } from './datasets.js';
import { writeResults } from './results-file.js';
import { cliEnv, runCli } from './run-cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'kill-at': { type: 'string', default: '0.5' },
    data: { type: 'string', default: '/var/tmp/twinvault-bench' },
  },
});
const ROUNDS = Number(values.rounds);
const KILL_AT = Number(values['kill-at']);
const CLI = new URL('../dist/twinvault.js', import.meta.url).pathname;
const BUCKET = 'resume';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

const set = await buildDataSet('D1', values.data);
const minio = await startMinio({ MINIO_SCANNER_SPEED: 'slowest' });
const client = adminClient(minio);
const home = await mkdtemp(join(tmpdir(), 'twinvault-bench-resume-'));

/** Bytes stored under a prefix of the bucket (one listing). */
async function storedBytes(prefix: string): Promise<number> {
  let bytes = 0;
  for await (const page of paginateListObjectsV2({ client }, { Bucket: BUCKET, Prefix: prefix })) {
    for (const object of page.Contents ?? []) bytes += object.Size ?? 0;
  }
  return bytes;
}

const rounds: Array<Record<string, number>> = [];
try {
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (let round = 0; round < ROUNDS; round++) {
    const env = cliEnv(minio, home, `state-${round}`, `s3://${BUCKET}/round-${round}`);
    await runCli(['init'], env);
    const content = `round-${round}/bench/`;

    // The first run, killed once KILL_AT of the data set is stored.
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, 'backup', set.root, '--host', 'bench'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let finished = false;
    void exited.then(() => {
      finished = true;
    });
    while (!finished && (await storedBytes(content)) < KILL_AT * set.bytes)
      await new Promise((resolve) => setTimeout(resolve, 50));
    if (finished) throw new Error('the first backup finished before it could be killed');
    child.kill('SIGKILL');
    await exited;
    const killedAfter = Number(process.hrtime.bigint() - started) / 1e9;
    const stored = await storedBytes(content);

    // The second run, to the end.
    const second = await runCli(['--json', 'backup', set.root, '--host', 'bench'], env);
    const summary = JSON.parse(second.stdout) as {
      bytesUploaded: number;
      resumed: { files: number; bytes: number };
      files: { new: number };
    };
    if (summary.files.new !== set.files.length) throw new Error('the second backup did not hold every file');
    const result = {
      storedShareAtKill: round3(stored / set.bytes),
      secondRunUploadedShare: round3(summary.bytesUploaded / set.bytes),
      secondRunResumedFiles: summary.resumed.files,
      secondRunResumedShare: round3(summary.resumed.bytes / set.bytes),
      firstRunKilledAfterSeconds: round3(killedAfter),
      secondRunSeconds: round3(second.seconds),
    };
    console.log(`round ${round + 1}:`, result);
    rounds.push(result);
  }
  const results = {
    date: new Date().toISOString(),
    dataSet: { name: set.name, files: set.files.length, bytes: set.bytes },
    killAt: KILL_AT,
    goal: 'second run uploads at most 55% of the bytes',
    median: {
      storedShareAtKill: median(rounds.map((r) => r.storedShareAtKill!)),
      secondRunUploadedShare: median(rounds.map((r) => r.secondRunUploadedShare!)),
    },
    rounds,
  };
  await writeResults('resume', results);
} finally {
  client.destroy();
  await rm(home, { recursive: true, force: true });
  await minio.stop();
}
