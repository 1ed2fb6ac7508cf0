import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { adminClient, connectionSettings, s3Server, testBackend, uniqueBucketName } from '../../test/s3.js';
import { systemClock } from '../clock.js';
import { RepositoryLock } from '../repository/locks.js';

const minio = s3Server('minio');

/**
 * MinIO has no archive classes, but it keeps REDUCED_REDUNDANCY apart from STANDARD: enough to
 * show which objects take the configured class and which stay hot.
 */
describe.skipIf(!minio)('storage classes on MinIO', () => {
  let work: string;
  let home: string;
  const primary = uniqueBucketName('class-primary');
  const replica = uniqueBucketName('class-replica');
  const cli = (args: string[], config = 'twinvault.json') =>
    runCli(['--config', join(work, config), ...args], { cwd: work, home, env: {} });

  /** Storage class of every object under `repo/`, by kind: content, or `.twinvault/`. */
  async function classes(bucket: string) {
    const s3 = adminClient(minio!);
    const seen: Record<string, Set<string>> = { content: new Set(), metadata: new Set() };
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: 'repo/' })) {
      for (const object of page.Contents ?? []) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.Key! }));
        const kind = object.Key!.startsWith('repo/.twinvault/') ? 'metadata' : 'content';
        seen[kind]!.add(head.StorageClass ?? 'STANDARD');
      }
    }
    s3.destroy();
    return { content: [...seen.content!], metadata: [...seen.metadata!] };
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-class-'));
    home = join(work, 'home');
    await mkdir(home);
    await mkdir(join(work, 'Documents', 'sub'), { recursive: true });
    await writeFile(join(work, 'Documents', 'a.txt'), 'alpha');
    await writeFile(join(work, 'Documents', 'sub', 'b.txt'), 'bravo');
    const connection = { ...connectionSettings(minio!), storageClass: 'REDUCED_REDUNDANCY' };
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({
        repository: { url: `s3://${primary}/repo`, ...connection },
        host: 'laptop',
        sources: [{ path: join(work, 'Documents') }],
        replicas: [{ url: `s3://${replica}/repo`, ...connection }],
      }),
    );
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes content in the configured class and everything under .twinvault/ in STANDARD', async () => {
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    expect((await cli(['backup'])).code).toBe(0);
    expect(await classes(primary)).toEqual({ content: ['REDUCED_REDUNDANCY'], metadata: ['STANDARD'] });

    // A lock, written and rewritten while a backup or prune runs, stays hot too.
    const backend = testBackend(minio!, primary, { storageClass: 'REDUCED_REDUNDANCY' });
    const lock = await RepositoryLock.acquire(backend, 'shared', 'backup', systemClock);
    const s3 = adminClient(minio!);
    const head = await s3.send(new HeadObjectCommand({ Bucket: primary, Key: `repo/${lock.key}` }));
    expect(head.StorageClass ?? 'STANDARD').toBe('STANDARD');
    await lock.release();
    s3.destroy();
    await backend.close();
  });

  it('refuses an archive class before writing anything, pointing to lifecycle', async () => {
    const refused = uniqueBucketName('class-refused');
    const s3 = adminClient(minio!);
    await s3.send(new CreateBucketCommand({ Bucket: refused }));
    await writeFile(
      join(work, 'glacier.json'),
      JSON.stringify({
        repository: { url: `s3://${refused}/repo`, ...connectionSettings(minio!), storageClass: 'GLACIER' },
        host: 'laptop',
        sources: [{ path: join(work, 'Documents') }],
      }),
    );
    for (const command of [['init'], ['backup']]) {
      const result = await cli(command, 'glacier.json');
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('repository.storageClass: "GLACIER" is an archive class');
      expect(result.stderr).toContain('twinvault lifecycle --apply --glacier-days N');
    }
    expect((await s3.send(new ListObjectsV2Command({ Bucket: refused }))).KeyCount ?? 0).toBe(0);
    await s3.send(new DeleteBucketCommand({ Bucket: refused }));
    s3.destroy();
  });

  it("copies content into the replica's class (server-side) and manifests as STANDARD", async () => {
    const replicated = await cli(['replicate']);
    expect(replicated.stderr).toBe('');
    expect(replicated.code).toBe(0);
    expect(await classes(replica)).toEqual({ content: ['REDUCED_REDUNDANCY'], metadata: ['STANDARD'] });
  });
});
