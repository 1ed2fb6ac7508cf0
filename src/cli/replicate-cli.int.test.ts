import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { connectionSettings, s3Server, uniqueBucketName } from '../../test/s3.js';
import { describeTree } from '../../test/tree.js';

const minio = s3Server('minio');

describe.skipIf(!minio)('replicate, replicas and restore from a replica, from the command line', () => {
  let work: string;
  let home: string;
  let source: string;
  const primary = uniqueBucketName('cli-primary');
  const replica = uniqueBucketName('cli-replica');
  const cli = (args: string[]) =>
    runCli(['--config', join(work, 'twinvault.json'), ...args], { cwd: work, home, env: {} });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-replicate-cli-'));
    home = join(work, 'home');
    source = join(work, 'Documents');
    await mkdir(home);
    await mkdir(join(source, 'taxes'), { recursive: true });
    await writeFile(join(source, 'taxes', '2025.pdf'), 'pdf bytes');
    await writeFile(join(source, 'todo.txt'), 'buy milk');
    const connection = connectionSettings(minio!);
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({
        repository: { url: `s3://${primary}/backups`, ...connection },
        host: 'laptop',
        sources: [{ path: source }],
        replicas: [
          { url: `s3://${replica}/backups`, ...connection, deletes: 'mirror', retention: { keepLast: 1 } },
        ],
      }),
    );
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('replicates the configured replica, reports it current, and restores from it with --repo', async () => {
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    expect((await cli(['backup'])).code).toBe(0);

    const behind = JSON.parse((await cli(['--json', 'replicas'])).stdout);
    expect(behind).toEqual([
      expect.objectContaining({
        replica: `s3://${replica}/backups`,
        reachable: true,
        behindObjects: 3,
        deletes: 'mirror',
      }),
    ]);

    const first = await cli(['replicate']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`replica s3://${replica}/backups`);
    expect(first.stdout).toMatch(/copied 3 object\(s\).*1 of them snapshot manifests/);

    const again = JSON.parse((await cli(['--json', 'replicate'])).stdout);
    expect(again[0].summary.objects.copied).toBe(0);

    const status = JSON.parse((await cli(['--json', 'replicas'])).stdout)[0];
    expect(status).toMatchObject({ behindObjects: 0, lagSeconds: 0 });
    expect(Date.parse(status.lastPass)).toBeGreaterThan(Date.now() - 60_000);

    const target = join(work, 'restored');
    const restored = await cli([
      '--repo',
      `s3://${replica}/backups`,
      'restore',
      'latest',
      '--target',
      target,
    ]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(await describeTree(join(target, 'Documents'))).toEqual(await describeTree(source));

    // The replica's own retention policy applies to it; the repository has none configured.
    await writeFile(join(source, 'todo.txt'), 'buy milk and bread');
    expect((await cli(['backup'])).code).toBe(0);
    expect((await cli(['replicate'])).code).toBe(0);
    const forget = JSON.parse(
      (await cli(['--json', '--repo', `s3://${replica}/backups`, 'forget', '--dry-run'])).stdout,
    );
    expect(forget).toMatchObject({ removed: 1, kept: 1 });
    expect((await cli(['forget', '--dry-run'])).stderr).toContain('no retention policy');
  });

  it('refuses to mix repositories: a replica holding another one is an error that names both', async () => {
    const other = uniqueBucketName('cli-other');
    const otherRepo = `s3://${other}/backups`;
    expect((await cli(['--repo', otherRepo, 'init', '--create-bucket'])).code).toBe(0);
    const refused = await cli(['replicate', '--to', otherRepo]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`the replica ${otherRepo} holds another repository`);
  });
});
