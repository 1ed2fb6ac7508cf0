/**
 * The verify benchmark (issue 8), against MinIO on loopback, in one run:
 *   - metadata verify of D2 (100,000 files): the built CLI's `verify`, median of 3;
 *   - read-data verify of D1 (1 GiB): `verify --read-data` against a baseline of plain GetObject
 *     calls at the same concurrency (16) over the same objects, bodies read and dropped.
 * Writes bench/results/verify-<date>.json.   npm run build && npm run bench:verify
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';
import { buildDataSet } from './datasets.js';
import { writeResults } from './results-file.js';
import { cliEnv, runCli } from './run-cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { data: { type: 'string', default: '/var/tmp/twinvault-bench' } } });
const CONCURRENCY = 16;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const minio = await startMinio({ MINIO_SCANNER_SPEED: 'slowest' });
const client = adminClient({
  endpoint: minio.endpoint,
  accessKeyId: minio.accessKeyId,
  secretAccessKey: minio.secretAccessKey,
});
const home = await mkdtemp(join(tmpdir(), 'twinvault-bench-verify-'));
const results: Record<string, unknown> = { date: new Date().toISOString(), concurrency: CONCURRENCY };
try {
  await client.send(new CreateBucketCommand({ Bucket: 'verify' }));
  for (const name of ['D2', 'D1'] as const) {
    const set = await buildDataSet(name, values.data);
    const env = cliEnv(minio, home, `state-${name}`, `s3://verify/${name}`);
    await runCli(['init'], env);
    await runCli(['backup', set.root, '--host', 'bench'], env);
    const r: Record<string, number> = { files: set.files.length, megabytes: set.bytes / 1e6 };
    if (name === 'D2') {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) runs.push((await runCli(['verify'], env)).seconds);
      Object.assign(r, {
        metadataVerifySeconds: median(runs),
        metadataVerifySecondsMin: Math.min(...runs),
        metadataVerifySecondsMax: Math.max(...runs),
      });
      console.log(`D2 metadata verify: ${runs.map((x) => x.toFixed(2)).join(', ')} s`);
    } else {
      const keys: string[] = [];
      for await (const page of paginateListObjectsV2(
        { client },
        { Bucket: 'verify', Prefix: `${name}/bench/` },
      )) {
        for (const object of page.Contents ?? []) keys.push(object.Key!);
      }
      const baselineRuns: number[] = [];
      const ourRuns: number[] = [];
      for (let round = 0; round < 3; round++) {
        let next = 0;
        const started = process.hrtime.bigint();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < keys.length) {
              const answer = await client.send(
                new GetObjectCommand({ Bucket: 'verify', Key: keys[next++]! }),
              );
              for await (const _ of answer.Body as Readable);
            }
          }),
        );
        baselineRuns.push(Number(process.hrtime.bigint() - started) / 1e9);
        ourRuns.push((await runCli(['verify', '--read-data'], env)).seconds);
      }
      Object.assign(r, {
        objects: keys.length,
        baselineDownloadSeconds: median(baselineRuns),
        readDataVerifySeconds: median(ourRuns),
        readDataVsBaselineRate: median(baselineRuns) / median(ourRuns),
      });
      console.log(
        `D1 read-data verify: ${ourRuns.map((x) => x.toFixed(2)).join(', ')} s; baseline download ${baselineRuns.map((x) => x.toFixed(2)).join(', ')} s`,
      );
    }
    results[name] = r;
  }
} finally {
  client.destroy();
  await minio.stop();
  await rm(home, { recursive: true, force: true });
}
await writeResults('verify', results as { date: string });
