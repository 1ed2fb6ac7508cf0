/**
 * What reading manifests through the local cache costs the commands that list and select
 * snapshots: `snapshots` and `restore latest --include` on a repository of a few large manifests
 * (100,000 entries each), on a local folder and on MinIO, with a cold and a warm cache. Manifests
 * are made by hand (one content object serves every entry), so only manifest reading is measured.
 * Writes bench/results/manifest-cache-<date>[-<label>].json.
 *
 *   npm run build && npx tsx bench/manifest-cache.ts [--baseline OTHER/dist/twinvault.js]
 *     [--label NAME] [--snapshots 4] [--entries 100000] [--runs 3]
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Backend } from '../src/backend/backend.js';
import { bodyFromBuffer } from '../src/backend/body.js';
import { LocalBackend } from '../src/backend/local/local-backend.js';
import { S3Backend } from '../src/backend/s3/s3-backend.js';
import type { Entry } from '../src/repository/manifest.js';
import { encodeManifest } from '../src/repository/manifest-codec.js';
import { refFor } from '../src/repository/snapshots.js';
import { headerFor, SHA_OF_HELLO } from '../test/manifests.js';
import { adminClient } from '../test/s3.js';
import { startMinio } from '../test/servers/minio.js';
import { writeResults } from './results-file.js';
import { runCli } from './run-cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    label: { type: 'string', default: '' },
    snapshots: { type: 'string', default: '4' },
    entries: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    /** Another build's dist/twinvault.js, measured in turns with this one. */
    baseline: { type: 'string' },
  },
});
const SNAPSHOTS = Number(values.snapshots);
const ENTRIES = Number(values.entries);
const RUNS = Number(values.runs);
const CONTENT = 'bench/content/hello';
/** Every snapshot holds it (its last entry): the newest is picked after reading its entries. */
const IN_ALL = `src/dir${String(Math.floor((ENTRIES - 1) / 1000)).padStart(4, '0')}/file${String(ENTRIES - 1).padStart(7, '0')}.dat`;
/** Only the oldest holds it: every manifest's entries are read. */
const IN_OLDEST = 'src/zz-only-in-oldest.dat';

/** Every entry's content is its own (a distinct SHA-256 and key, as real manifests have). */
function entry(path: string, ino: number, restorable = false): Entry {
  const sha256 = restorable ? SHA_OF_HELLO : createHash('sha256').update(path).digest('hex');
  return {
    type: 'file',
    path,
    mode: 0o644,
    mtime: '1767225600000000000',
    uid: 1000,
    gid: 1000,
    size: 5,
    sha256,
    key: restorable ? CONTENT : `bench/20260101_000000/${path}`,
    ctime: '1767225600000000000',
    ino,
  };
}

function* entries(oldest: boolean): Generator<Entry> {
  for (let i = 0; i < ENTRIES; i++) {
    const path = `src/dir${String(Math.floor(i / 1000)).padStart(4, '0')}/file${String(i).padStart(7, '0')}.dat`;
    yield entry(path, i + 1, path === IN_ALL);
  }
  if (oldest) yield entry(IN_OLDEST, ENTRIES + 1, true);
}

async function fill(backend: Backend): Promise<number> {
  await backend.put(CONTENT, bodyFromBuffer(Buffer.from('hello')));
  let bytes = 0;
  for (let n = 0; n < SNAPSHOTS; n++) {
    const ref = refFor('bench', `20260101_00000${n}`);
    const count = ENTRIES + (n === 0 ? 1 : 0);
    const data = await encodeManifest(headerFor(ref, count), entries(n === 0));
    await backend.put(ref.key, bodyFromBuffer(data));
    bytes = data.length;
  }
  return bytes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

interface Build {
  name: string;
  cli: string | undefined;
}

/**
 * Median wall seconds of `RUNS` runs of each build, taking turns (so both meet the same load);
 * `fresh` gives each run a state folder of its own, else each build keeps its own.
 */
async function measure(
  builds: Build[],
  env: NodeJS.ProcessEnv,
  args: string[],
  fresh: boolean,
  scratch: string,
): Promise<Record<string, { seconds: number; rssMiB: number }>> {
  const runs = new Map<string, number[]>(builds.map((build) => [build.name, []]));
  const rss = new Map<string, number>();
  for (let run = 0; run < RUNS; run++) {
    for (const build of builds) {
      const state = fresh ? await mkdtemp(join(scratch, 'state-')) : join(env.HOME!, `state-${build.name}`);
      const result = await runCli(args, { ...env, XDG_STATE_HOME: state }, build.cli);
      runs.get(build.name)!.push(result.seconds);
      rss.set(build.name, Math.max(rss.get(build.name) ?? 0, result.rssKiB / 1024));
      if (fresh) await rm(state, { recursive: true, force: true });
    }
  }
  return Object.fromEntries(
    builds.map((build) => [
      build.name,
      { seconds: median(runs.get(build.name)!), rssMiB: Math.round(rss.get(build.name)!) },
    ]),
  );
}

const builds: Build[] = [
  ...(values.baseline ? [{ name: 'baseline', cli: values.baseline }] : []),
  { name: 'current', cli: undefined },
];
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  label: values.label,
  baseline: values.baseline,
  snapshots: SNAPSHOTS,
  entries: ENTRIES,
  runs: RUNS,
};
const scratch = await mkdtemp(join(tmpdir(), 'twinvault-bench-cache-'));
const minio = await startMinio({ MINIO_SCANNER_SPEED: 'slowest' });
try {
  const credentials = { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey };
  await adminClient(minio).send(new CreateBucketCommand({ Bucket: 'tv-cache' }));
  const repositories = {
    local: { url: `file://${join(scratch, 'repo')}`, backend: new LocalBackend(join(scratch, 'repo')) },
    minio: {
      url: 's3://tv-cache/repo',
      backend: new S3Backend({
        bucket: 'tv-cache',
        prefix: 'repo',
        endpoint: minio.endpoint,
        region: 'us-east-1',
        credentials,
        env: {},
      }) as Backend,
    },
  };
  for (const [name, { url, backend }] of Object.entries(repositories)) {
    const home = join(scratch, `home-${name}`);
    const env: NodeJS.ProcessEnv = {
      HOME: home,
      AWS_ACCESS_KEY_ID: minio.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
      AWS_ENDPOINT_URL_S3: minio.endpoint,
      AWS_REGION: 'us-east-1',
      TWINVAULT_REPOSITORY: url,
    };
    await runCli(['init'], { ...env, XDG_STATE_HOME: join(home, 'state-init') });
    const manifestBytes = await fill(backend);
    await backend.close();
    const r: Record<string, unknown> = { manifestBytes };
    r.snapshotsCold = await measure(builds, env, ['snapshots'], true, scratch);
    // Warms each build's cache.
    for (const build of builds) {
      await runCli(['snapshots'], { ...env, XDG_STATE_HOME: join(home, `state-${build.name}`) }, build.cli);
    }
    r.snapshotsWarm = await measure(builds, env, ['snapshots'], false, scratch);
    const restore = (path: string) => [
      'restore',
      'latest',
      '--include',
      path,
      '--target',
      join(scratch, 'out'),
    ];
    r.restoreNewestWarm = await measure(builds, env, restore(IN_ALL), false, scratch);
    r.restoreOldestWarm = await measure(builds, env, restore(IN_OLDEST), false, scratch);
    r.restoreOldestCold = await measure(builds, env, restore(IN_OLDEST), true, scratch);
    await rm(join(scratch, 'out'), { recursive: true, force: true });
    results[name] = r;
    console.log(name, JSON.stringify(r));
  }
} finally {
  await minio.stop();
  await rm(scratch, { recursive: true, force: true });
}
await writeResults('manifest-cache', results as { date: string }, values.label);
