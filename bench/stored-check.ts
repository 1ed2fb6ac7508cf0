/**
 * What the check that carried-over objects are still stored (backup/missing-objects.ts) costs on
 * D2 (100,000 files of 1–4 KiB) against MinIO on loopback, in one run: no-change backups without
 * the check and with it, alternating, in-process; medians with min–max, and requests per run.
 * Writes bench/results/stored-check-<date>.json.   npm run bench:stored-check
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { S3Backend } from '../src/backend/s3/s3-backend.js';
import { CountingBackend } from '../src/backend/wrap/counting.js';
import { backup } from '../src/backup/backup.js';
import { systemClock } from '../src/clock.js';
import { initRepository } from '../src/repository/repository.js';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';
import { buildDataSet } from './datasets.js';
import { writeResults } from './results-file.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    data: { type: 'string', default: '/var/tmp/twinvault-bench' },
  },
});
const RUNS = Number(values.runs);
const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { median: r(sorted[sorted.length >> 1]!), min: r(sorted[0]!), max: r(sorted.at(-1)!) };
};

const set = await buildDataSet('D2', values.data);
const minio = await startMinio({ MINIO_SCANNER_SPEED: 'slowest' });
const client = adminClient(minio);
const state = await mkdtemp(join(tmpdir(), 'twinvault-bench-stored-check-'));
try {
  await client.send(new CreateBucketCommand({ Bucket: 'stored-check' }));
  const counting = new CountingBackend(
    new S3Backend({
      bucket: 'stored-check',
      prefix: 'repo',
      endpoint: minio.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
      env: {},
    }),
  );
  const repository = await initRepository(counting, { clock: systemClock });
  const run = async (checkStoredEveryMs: number) => {
    const before = counting.total();
    const started = process.hrtime.bigint();
    const summary = await backup({
      repository,
      sources: [{ path: set.root }],
      host: 'bench',
      stateFolder: state,
      checkStoredEveryMs,
    });
    return {
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      requests: counting.total() - before,
      missing: summary.missingObjects,
    };
  };
  const first = await run(0);
  console.log(`first backup of D2: ${first.seconds.toFixed(1)} s`);
  const without: Array<{ seconds: number; requests: number }> = [];
  const withCheck: Array<{ seconds: number; requests: number }> = [];
  await run(Number.MAX_SAFE_INTEGER); // warm-up
  for (let i = 0; i < RUNS; i++) {
    without.push(await run(Number.MAX_SAFE_INTEGER));
    const checked = await run(0);
    if (checked.missing !== 0) throw new Error('the check found objects missing');
    withCheck.push(checked);
    console.log(
      `round ${i + 1}: ${without.at(-1)!.seconds.toFixed(2)} s without, ${checked.seconds.toFixed(2)} s with`,
    );
  }
  const a = stats(without.map((r) => r.seconds));
  const b = stats(withCheck.map((r) => r.seconds));
  const results = {
    date: new Date().toISOString(),
    dataSet: { name: set.name, files: set.files.length, bytes: set.bytes },
    noChangeSeconds: a,
    noChangeRequests: without[0]!.requests,
    withCheckSeconds: b,
    withCheckRequests: withCheck[0]!.requests,
    checkCostSeconds: Math.round((b.median - a.median) * 1000) / 1000,
    ratio: Math.round((b.median / a.median) * 100) / 100,
  };
  await writeResults('stored-check', results);
  await counting.close();
} finally {
  client.destroy();
  await rm(state, { recursive: true, force: true });
  await minio.stop();
}
