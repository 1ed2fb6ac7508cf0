import { spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { connectionSettings, s3Server, uniqueBucketName } from '../../test/s3.js';
import { type MinioServer, startMinio } from '../../test/servers/minio.js';

const minio = s3Server('minio');

/** The words a POSIX shell makes of a command line. */
function shellWords(command: string): string[] {
  const result = spawnSync('sh', ['-c', `set -- ${command}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return result.stdout.split('\0').slice(0, -1);
}

describe.skipIf(!minio)('restore from MinIO into a folder that holds other versions', () => {
  let work: string;
  let source: string;
  const cli = (args: string[]) =>
    runCli(['--config', join(work, 'twinvault.json'), ...args], {
      cwd: work,
      home: join(work, 'home'),
      env: {},
    });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-restore-s3-'));
    source = join(work, 'Documents');
    await mkdir(join(work, 'home'));
    await mkdir(source);
    await writeFile(
      join(work, 'twinvault.json'),
      JSON.stringify({
        repository: {
          url: `s3://${uniqueBucketName('restore-overwrite')}/repo`,
          ...connectionSettings(minio!),
        },
        host: 'laptop',
        sources: [{ path: source }],
      }),
    );
    await writeFile(join(source, 'report.txt'), 'as backed up');
    await writeFile(join(source, 'tool'), '#!/bin/sh\n');
    await chmod(join(source, 'tool'), 0o4755);
    const old = new Date(Date.UTC(2024, 0, 1));
    await utimes(join(source, 'report.txt'), old, old);
    expect((await cli(['init', '--create-bucket'])).code).toBe(0);
    expect((await cli(['backup'])).code).toBe(0);
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('keeps a newer local file (exit 3), says so in a dry run, replaces it with --overwrite always', async () => {
    const target = join(work, 'restored');
    expect((await cli(['restore', 'latest', '--target', target])).code).toBe(0);
    await writeFile(join(target, 'Documents', 'report.txt'), 'my edit since');
    const dry = await cli(['restore', 'latest', '--target', target, '--dry-run']);
    expect(dry.stdout).toMatch(/^keep \(newer\) +file +Documents\/report\.txt$/m);
    const kept = await cli(['restore', 'latest', '--target', target]);
    expect(kept.code).toBe(3);
    expect(kept.stdout).toContain('kept Documents/report.txt: the local copy');
    expect(await readFile(join(target, 'Documents', 'report.txt'), 'utf8')).toBe('my edit since');
    expect((await cli(['restore', 'latest', '--target', target, '--overwrite', 'always'])).code).toBe(0);
    expect(await readFile(join(target, 'Documents', 'report.txt'), 'utf8')).toBe('as backed up');
  });

  it('restores a set-uid file without the bit, unless --keep-setid', async () => {
    const plain = await cli(['restore', 'latest', '--target', join(work, 'plain')]);
    expect(plain.stdout).toContain('1 entry restored without set-uid/set-gid bits');
    expect((await lstat(join(work, 'plain', 'Documents', 'tool'))).mode & 0o7777).toBe(0o755);
    expect((await cli(['restore', 'latest', '--target', join(work, 'kept'), '--keep-setid'])).code).toBe(0);
    expect((await lstat(join(work, 'kept', 'Documents', 'tool'))).mode & 0o7777).toBe(0o4755);
  });
});

describe.skipIf(!minio)('the hint when the repository is down keeps every flag given', () => {
  let work: string;
  let primaryServer: MinioServer | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'twinvault-restore-hint-'));
    primaryServer = await startMinio();
  });
  afterAll(async () => {
    await primaryServer?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('names --host, --include and --overwrite, and the command it gives restores from the replica', async () => {
    const source = join(work, 'Documents');
    await mkdir(join(work, 'home'));
    await mkdir(source);
    await writeFile(join(source, 'precious.txt'), 'the only copy');
    await writeFile(join(source, 'other.txt'), 'not asked for');
    const replicaUrl = `s3://${uniqueBucketName('hint-replica')}/repo`;
    const config = join(work, 'twin vault.json');
    await writeFile(
      config,
      JSON.stringify({
        repository: {
          url: `s3://${uniqueBucketName('hint-primary')}/repo`,
          ...connectionSettings(primaryServer!),
          maxAttempts: 1,
        },
        sources: [{ path: source }],
        replicas: [{ url: replicaUrl, ...connectionSettings(minio!) }],
      }),
    );
    const run = (args: string[]) => runCli(args, { cwd: work, home: join(work, 'home'), env: {} });
    // Two hosts' snapshots: "latest" without --host would be the other machine's.
    expect((await run(['--config', config, 'init', '--create-bucket'])).code).toBe(0);
    expect((await run(['--config', config, 'backup', '--host', 'laptop'])).code).toBe(0);
    await writeFile(join(source, 'precious.txt'), "the desktop's version");
    expect((await run(['--config', config, 'backup', '--host', 'desktop'])).code).toBe(0);
    expect((await run(['--config', config, 'replicate'])).code).toBe(0);

    await primaryServer!.stop();
    primaryServer = undefined;
    const target = join(work, 'restored here');
    const refused = await run([
      '--config',
      config,
      'restore',
      'latest',
      '--host',
      'laptop',
      '--include',
      'Documents/precious.txt',
      '--overwrite',
      'always',
      '--target',
      target,
    ]);
    expect(refused.code).toBe(6);
    const command = /or run: (twinvault .*)$/m.exec(refused.stderr)?.[1];
    expect(command).toBeDefined();
    const words = shellWords(command!);
    expect(words).toEqual(
      expect.arrayContaining(['--host', 'laptop', '--include', 'Documents/precious.txt']),
    );
    expect(words).toEqual(expect.arrayContaining(['--overwrite', 'always', '--repo', replicaUrl, target]));
    const restored = await run(words.slice(1));
    expect(restored.code).toBe(0);
    expect(await readFile(join(target, 'Documents', 'precious.txt'), 'utf8')).toBe('the only copy');
    await expect(lstat(join(target, 'Documents', 'other.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
