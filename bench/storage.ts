/**
 * Storage-layer benchmark: small-object puts, a large multipart put and get, and listing, on the
 * local folder backend (with and without fsync) and on S3 (a local MinIO). Prints medians of
 * several runs with min–max; compare ratios within one run (../shared/BENCHMARKING.md).
 *
 *   npm run bench [-- --small 2000 --large-mib 256 --runs 3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Backend } from '../src/backend/backend.js';
import { bodyFromBuffer, readAll } from '../src/backend/body.js';
import { LocalBackend } from '../src/backend/local/local-backend.js';
import { S3Backend } from '../src/backend/s3/s3-backend.js';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '2000' },
    'large-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
  },
});
const SMALL = Number(values.small);
const LARGE = Number(values['large-mib']) * 1024 * 1024;
const RUNS = Number(values.runs);
const CONCURRENCY = 16;

interface Target {
  name: string;
  make: (run: number) => Promise<Backend>;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function pool<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function summary(values: number[], unit: string): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${median.toFixed(0)} ${unit} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)})`;
}

async function measure(target: Target) {
  const small: number[] = [];
  const list: number[] = [];
  const largePut: number[] = [];
  const largeGet: number[] = [];
  const smallBody = Buffer.alloc(4096, 7);
  const largeBody = Buffer.alloc(LARGE, 9);
  for (let run = 0; run <= RUNS; run++) {
    const backend = await target.make(run);
    const keys = Array.from({ length: SMALL }, (_, i) => `small/${run}/${String(i).padStart(6, '0')}`);
    const tSmall = await timed(() => pool(keys, (key) => backend.put(key, bodyFromBuffer(smallBody))));
    const tList = await timed(async () => {
      for await (const _ of backend.list(`small/${run}/`));
    });
    const tPut = await timed(() => backend.put(`large/${run}`, bodyFromBuffer(largeBody)));
    const tGet = await timed(async () => {
      await readAll(await backend.get(`large/${run}`));
    });
    await backend.close();
    if (run === 0) continue; // warm-up
    small.push(SMALL / tSmall);
    list.push(SMALL / tList);
    largePut.push(LARGE / 1e6 / tPut);
    largeGet.push(LARGE / 1e6 / tGet);
  }
  console.log(
    `| ${target.name} | ${summary(small, 'obj/s')} | ${summary(list, 'keys/s')} | ${summary(largePut, 'MB/s')} | ${summary(largeGet, 'MB/s')} |`,
  );
}

const scratch = await mkdtemp(join(tmpdir(), 'twinvault-bench-'));
const minio = await startMinio();
try {
  const client = adminClient({
    endpoint: minio.endpoint,
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
  });
  await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
  client.destroy();
  const targets: Target[] = [
    { name: 'local folder (fsync)', make: async (run) => new LocalBackend(join(scratch, `fsync-${run}`)) },
    {
      name: 'local folder (no fsync)',
      make: async (run) => new LocalBackend(join(scratch, `nofsync-${run}`), { fsync: false }),
    },
    {
      name: 'S3 on local MinIO',
      make: async (run) =>
        new S3Backend({
          bucket: 'bench',
          prefix: `run-${run}`,
          endpoint: minio.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
          env: {},
        }),
    },
  ];
  console.log(
    `${SMALL} objects of 4 KiB at concurrency ${CONCURRENCY}; one ${LARGE / 1024 / 1024} MiB object; median of ${RUNS} runs after a warm-up\n`,
  );
  console.log('| backend | small puts | list | large put | large get |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const target of targets) await measure(target);
} finally {
  await minio.stop();
  await rm(scratch, { recursive: true, force: true });
}
