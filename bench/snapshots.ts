/**
 * The snapshot benchmark of issue 3: twinvault against a minimal parallel PUT/GET loop with the
 * AWS SDK (no hashing, no manifest), on the same files, against MinIO on loopback, in one run.
 * Writes bench/results/snapshots-<date>.json and prints a table against the goals.
 *
 *   npm run build && npm run bench -- [--sets D1,D2] [--data /var/tmp/twinvault-bench]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Backend } from '../src/backend/s3/s3-backend.js';
import { CountingBackend } from '../src/backend/wrap/counting.js';
import { backup } from '../src/backup/backup.js';
import { openRepository } from '../src/repository/repository.js';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';
import { buildDataSet, bytesFor, type DataSet } from './datasets.js';
import { writeResults } from './results-file.js';
import { runCli } from './run-cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: 'D1,D2' },
    data: { type: 'string', default: '/var/tmp/twinvault-bench' },
    // The same number of requests in flight as twinvault's default.
    concurrency: { type: 'string', default: '32' },
  },
});
const CONCURRENCY = Number(values.concurrency);

async function pool<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Short runs: three backups (each after `before`), recorded as `<name>Seconds` (the median),
 * `…SecondsMin`, `…SecondsMax` and `<name>PeakRssMiB`.
 */
async function backupThrice(
  r: Record<string, number | undefined>,
  name: string,
  root: string,
  env: NodeJS.ProcessEnv,
  before: (round: number) => Promise<unknown> = async () => {},
): Promise<number[]> {
  const runs: number[] = [];
  for (let round = 0; round < 3; round++) {
    await before(round);
    const run = await runCli(['--json', 'backup', root, '--host', 'bench'], env);
    runs.push(run.seconds);
    r[`${name}PeakRssMiB`] = Math.max(r[`${name}PeakRssMiB`] ?? 0, run.rssKiB / 1024);
  }
  r[`${name}Seconds`] = median(runs);
  r[`${name}SecondsMin`] = Math.min(...runs);
  r[`${name}SecondsMax`] = Math.max(...runs);
  return runs;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, value };
}

/** BENCHMARKING.md: drop the page cache (and the inode blocks of deleted files) before a timed run. */
function dropCaches(): void {
  spawnSync('sync');
  try {
    spawnSync('sh', ['-c', 'echo 1 > /proc/sys/vm/drop_caches']);
  } catch {
    // not root: figures are then warm-cache figures
  }
}

async function warmRead(set: DataSet): Promise<void> {
  await pool(set.files, (file) => readFile(join(set.root, file)));
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  concurrency: CONCURRENCY,
  sets: {},
};
// MinIO's background scanner walks every object after a large upload and took up to 15% of a
// core here for minutes afterwards: on two cores shared with the client, that is noise in the
// short runs (S3 itself runs on other machines). Slowest is MinIO's own setting for busy servers.
const minio = await startMinio({ MINIO_SCANNER_SPEED: 'slowest' });
const server = {
  endpoint: minio.endpoint,
  accessKeyId: minio.accessKeyId,
  secretAccessKey: minio.secretAccessKey,
};
const client = adminClient(server);
const scratch = join(values.data, 'run');
try {
  await client.send(new CreateBucketCommand({ Bucket: 'baseline' }));
  await client.send(new CreateBucketCommand({ Bucket: 'tv-bench' }));
  for (const name of values.sets.split(',') as Array<'D1' | 'D2'>) {
    console.log(`\n== ${name}: building or reusing the data set`);
    const set = await buildDataSet(name, values.data);
    const env = {
      AWS_ACCESS_KEY_ID: minio.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: `s3://tv-bench/${name}`,
      XDG_STATE_HOME: join(scratch, `state-${name}`),
    };
    const mb = set.bytes / 1e6;
    const r: Record<string, number | undefined> = { files: set.files.length, megabytes: mb };

    dropCaches();
    await warmRead(set);
    const baseUp = await timed(() =>
      pool(set.files, async (file) => {
        const body = await readFile(join(set.root, file));
        await client.send(new PutObjectCommand({ Bucket: 'baseline', Key: `${name}/${file}`, Body: body }));
      }),
    );
    r.baselineUploadSeconds = baseUp.seconds;
    console.log(`baseline upload: ${baseUp.seconds.toFixed(1)} s`);

    await runCli(['init'], env);
    dropCaches();
    await warmRead(set);
    const first = await runCli(['--json', 'backup', set.root, '--host', 'bench'], env);
    r.initialBackupSeconds = first.seconds;
    r.initialBackupPeakRssMiB = first.rssKiB / 1024;
    console.log(
      `twinvault initial backup: ${first.seconds.toFixed(1)} s, peak RSS ${(first.rssKiB / 1024).toFixed(0)} MiB`,
    );

    const noChangeRuns = await backupThrice(r, 'noChange', set.root, env);
    // The same no-change backup in-process, through a request-counting backend.
    const counting = new CountingBackend(
      new S3Backend({
        bucket: 'tv-bench',
        prefix: name,
        endpoint: minio.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
        env: {},
      }),
    );
    const repository = await openRepository(counting);
    const afterOpen = counting.total();
    await backup({
      repository,
      sources: [{ path: set.root }],
      host: 'bench',
      stateFolder: join(env.XDG_STATE_HOME, 'twinvault'),
    });
    r.noChangeRequests = counting.total() - afterOpen + 1; // +1: reading the repository config
    await counting.close();
    console.log(
      `no-change backup: ${noChangeRuns.map((x) => x.toFixed(2)).join(', ')} s wall (CLI), ${r.noChangeRequests} requests`,
    );

    if (name === 'D2') {
      const changed = set.files.flatMap((file, index) => (index % 100 === 0 ? [{ file, index }] : []));
      const originals = await Promise.all(changed.map(({ file }) => readFile(join(set.root, file))));
      const onePercentRuns = await backupThrice(r, 'onePercentChanged', set.root, env, (round) =>
        Promise.all(
          changed.map(({ file }, i) =>
            writeFile(join(set.root, file), bytesFor(1_000_000 * (round + 1) + i, 2048)),
          ),
        ),
      );
      console.log(`1% changed: ${onePercentRuns.map((x) => x.toFixed(2)).join(', ')} s`);
      // The same content as built (times differ, which only makes a later run read them again).
      await Promise.all(changed.map(({ file }, i) => writeFile(join(set.root, file), originals[i]!)));
    }

    const baseTarget = join(scratch, `baseline-${name}`);
    await rm(baseTarget, { recursive: true, force: true });
    dropCaches();
    const baseDown = await timed(() =>
      pool(set.files, async (file) => {
        const path = join(baseTarget, file);
        await mkdir(join(path, '..'), { recursive: true });
        const answer = await client.send(
          new GetObjectCommand({ Bucket: 'baseline', Key: `${name}/${file}` }),
        );
        await pipeline(answer.Body as Readable, createWriteStream(path));
      }),
    );
    r.baselineDownloadSeconds = baseDown.seconds;
    await rm(baseTarget, { recursive: true, force: true });

    const ourTarget = join(scratch, `restore-${name}`);
    await rm(ourTarget, { recursive: true, force: true });
    dropCaches();
    const restored = await runCli(['restore', 'latest', '--target', ourTarget], env);
    r.restoreSeconds = restored.seconds;
    r.restorePeakRssMiB = restored.rssKiB / 1024;
    await rm(ourTarget, { recursive: true, force: true });
    console.log(
      `restore: ${restored.seconds.toFixed(1)} s vs baseline download ${baseDown.seconds.toFixed(1)} s`,
    );

    r.initialVsBaselineRate = r.baselineUploadSeconds / r.initialBackupSeconds;
    r.restoreVsBaselineRate = r.baselineDownloadSeconds / r.restoreSeconds;
    (results.sets as Record<string, unknown>)[name] = r;
  }
} finally {
  client.destroy();
  await minio.stop();
  await rm(scratch, { recursive: true, force: true });
}

const million = spawnSync(
  process.execPath,
  ['--import', 'tsx', new URL('./million.ts', import.meta.url).pathname],
  { encoding: 'utf8' },
);
results.million = JSON.parse(million.stdout.trim().split('\n').at(-1) ?? '{}');

await writeResults('snapshots', results as { date: string }, values.sets.replace(',', '-'));
