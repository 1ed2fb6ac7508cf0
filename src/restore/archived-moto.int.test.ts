import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  RestoreObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { holdRestoresInProgress, setRestoreProgression } from '../../test/moto-state.js';
import { adminClient, connectionSettings, createTestBucket, s3Server, testBackend } from '../../test/s3.js';
import { describeTree } from '../../test/tree.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import type { S3Backend } from '../backend/s3/s3-backend.js';

const moto = s3Server('moto');

/**
 * Archived objects against moto, the one test server with RestoreObject, InvalidObjectState and
 * (through its state manager) a restore in progress. Neither server runs lifecycle transitions,
 * so objects are written straight into GLACIER or DEEP_ARCHIVE. Every test that needs the state
 * manager lives in this file: its setting is global to the moto server, and test files run in
 * parallel.
 */
describe.skipIf(!moto)('archived objects on moto', () => {
  let cleanup: () => Promise<void>;
  const cleanups: Array<() => Promise<void>> = [];
  let glacier: S3Backend;
  let hot: S3Backend;

  beforeAll(async () => {
    const created = await createTestBucket(moto!, 'archive');
    cleanup = created.cleanup;
    glacier = testBackend(moto!, created.bucket, { storageClass: 'GLACIER' });
    hot = testBackend(moto!, created.bucket);
  });
  afterAll(async () => {
    await setRestoreProgression(moto!, { progression: 'immediate' });
    await glacier?.close();
    await hot?.close();
    await cleanup?.();
    for (const more of cleanups) await more();
  });

  describe('the S3 backend', () => {
    it('lists and heads an archived object, refuses to read or copy it, and restores it on request', async () => {
      await setRestoreProgression(moto!, { progression: 'manual', times: 1000 });
      await glacier.put('laptop/s1/a.txt', bodyFromBuffer('alpha'), { content: true });

      const listed = [];
      for await (const object of glacier.list('laptop/')) listed.push(object);
      expect(listed).toEqual([
        expect.objectContaining({
          key: 'laptop/s1/a.txt',
          storageClass: 'GLACIER',
          archive: { restore: 'unknown' },
        }),
      ]);
      expect(await glacier.head('laptop/s1/a.txt')).toMatchObject({
        storageClass: 'GLACIER',
        archive: { restore: 'none' },
      });
      const read = await glacier.get('laptop/s1/a.txt').catch((err: unknown) => err);
      expect(read).toMatchObject({ code: 'ARCHIVED' });
      expect((read as Error).message).toContain('"laptop/s1/a.txt"');
      await expect(hot.copy('laptop/s1/a.txt', 'laptop/s1/copy.txt')).rejects.toMatchObject({
        code: 'ARCHIVED',
      });

      expect(await glacier.requestRestore('laptop/s1/a.txt', { tier: 'Bulk', days: 3 })).toBe('started');
      await holdRestoresInProgress(moto!, async () => {
        expect((await glacier.head('laptop/s1/a.txt')).archive).toEqual({ restore: 'in-progress' });
      });
      expect((await glacier.head('laptop/s1/a.txt')).archive).toEqual({ restore: 'in-progress' });
      await expect(glacier.get('laptop/s1/a.txt')).rejects.toMatchObject({ code: 'ARCHIVED' });

      await setRestoreProgression(moto!, { progression: 'immediate' });
      const restored = await glacier.head('laptop/s1/a.txt');
      expect(restored.archive?.restore).toBe('restored');
      const days = (restored.archive!.restoredUntil!.getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(2.9);
      expect(days).toBeLessThan(3.1);
      expect((await readAll(await glacier.get('laptop/s1/a.txt'))).toString()).toBe('alpha');
      // Asking again only keeps the restored copy longer.
      expect(await glacier.requestRestore('laptop/s1/a.txt', { tier: 'Bulk', days: 5 })).toBe('restored');
      // A hot object needs no restore.
      await hot.put('laptop/s1/hot.txt', bodyFromBuffer('hot'));
      expect(await hot.requestRestore('laptop/s1/hot.txt', { tier: 'Standard', days: 1 })).toBe(
        'not-archived',
      );
    });
  });
  describe('restore and verify --read-data from the command line', () => {
    let work: string;
    let home: string;
    let bucket: string;
    let replicaBucket: string;
    const s3 = () => adminClient(moto!);
    const cli = (args: string[]) =>
      runCli(['--config', join(work, 'twinvault.json'), ...args], { cwd: work, home, env: {} });

    /** What a lifecycle transition does: the same object, now in an archive class (a copy onto itself). */
    async function transition(storageClass: 'GLACIER' | 'DEEP_ARCHIVE', match: RegExp = /./) {
      const client = s3();
      const keys: string[] = [];
      for await (const page of paginateListObjectsV2(
        { client },
        { Bucket: bucket, Prefix: 'repo/laptop/' },
      )) {
        for (const object of page.Contents ?? []) {
          if (!match.test(object.Key!)) continue;
          await client.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: object.Key!,
              CopySource: `${bucket}/${object.Key!.split('/').map(encodeURIComponent).join('/')}`,
              MetadataDirective: 'COPY',
              StorageClass: storageClass,
            }),
          );
          keys.push(object.Key!);
        }
      }
      client.destroy();
      return keys;
    }

    const exists = (path: string) =>
      access(path).then(
        () => true,
        () => false,
      );

    beforeAll(async () => {
      await setRestoreProgression(moto!, { progression: 'immediate' });
      work = await mkdtemp(join(tmpdir(), 'twinvault-archived-cli-'));
      home = join(work, 'home');
      await mkdir(home);
      await mkdir(join(work, 'Documents', 'photos'), { recursive: true });
      await writeFile(join(work, 'Documents', 'notes.txt'), 'notes');
      await writeFile(join(work, 'Documents', 'photos', 'cat.jpg'), 'a cat, in bytes');
      const primary = await createTestBucket(moto!, 'archive-cli');
      const replica = await createTestBucket(moto!, 'archive-replica');
      bucket = primary.bucket;
      replicaBucket = replica.bucket;
      cleanups.push(primary.cleanup, replica.cleanup);
      const connection = connectionSettings(moto!);
      await writeFile(
        join(work, 'twinvault.json'),
        JSON.stringify({
          repository: { url: `s3://${bucket}/repo`, ...connection },
          host: 'laptop',
          sources: [{ path: join(work, 'Documents') }],
        }),
      );
      expect((await cli(['init'])).code).toBe(0);
      expect((await cli(['backup'])).code).toBe(0);
    });
    afterAll(async () => {
      await rm(work, { recursive: true, force: true });
    });

    it('without --request-archived: exit 7, the archived objects named with how to get them, nothing written', async () => {
      await transition('DEEP_ARCHIVE');
      const target = join(work, 'target-1');
      const refused = await cli(['restore', 'latest', '--target', target]);
      expect(refused.code).toBe(7);
      expect(refused.stderr).toContain(
        'this restore needs archived objects that cannot be read until S3 restores them: 2 object(s), 20 B (DEEP_ARCHIVE: 2)',
      );
      expect(refused.stderr).toContain('nothing was written');
      expect(refused.stderr).toContain(
        'hint: ask S3 for them with --request-archived: Bulk ≈ < $0.01, within 48 hours',
      );
      expect(await exists(target)).toBe(false);

      const verified = await cli(['verify', '--read-data']);
      expect(verified.code).toBe(7);
      expect(verified.stdout).toContain(
        '2 archived object(s) chosen (20 B): 0 read from restored copies, 2 not read (archived), 0 being restored',
      );
      expect(verified.stdout).toContain('to read them, ask S3 for them with --request-archived');
      const json = JSON.parse((await cli(['--json', 'verify', '--read-data'])).stdout);
      expect(json.repositories[0].archived).toMatchObject({
        objects: 2,
        notRead: { objects: 2 },
        requested: 0,
      });
    });

    it('with --request-archived: asks S3 (RestoreObject), exit 8 while under way, asks nothing twice, then restores', async () => {
      // moto reports a requested restore as done unless told otherwise: hold it back for now.
      await setRestoreProgression(moto!, { progression: 'manual', times: 1000 });
      const target = join(work, 'target-2');
      const asked = await cli([
        'restore',
        'latest',
        '--target',
        target,
        '--request-archived',
        '--tier',
        'Standard',
        '--days',
        '2',
      ]);
      expect(asked.code).toBe(8);
      expect(asked.stderr).toContain(
        'asking S3 to restore 2 archived object(s) (20 B), Standard tier: estimated < $0.01',
      );
      expect(asked.stderr).toContain('asked S3 to restore 2 archived object(s) (Standard tier');
      expect(asked.stderr).toContain('hint: run the same command again later');
      expect(await exists(target)).toBe(false);
      const keys = await archivedKeys();
      const client = s3();
      for (const key of keys) {
        expect(
          (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore,
        ).toBeDefined();
      }
      // S3 is still at it: the same command says so and asks for nothing.
      await holdRestoresInProgress(moto!, async () => {
        for (const key of keys) await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      });
      client.destroy();
      const again = await cli(['restore', 'latest', '--target', target, '--request-archived']);
      expect(again.code).toBe(8);
      expect(again.stderr).not.toContain('asking S3');
      expect(again.stderr).toContain('archived objects being restored, usually within');
      const verifying = await cli(['verify', '--read-data']);
      expect(verifying.code).toBe(8);
      expect(verifying.stdout).toContain('0 not read (archived), 2 being restored');

      await setRestoreProgression(moto!, { progression: 'immediate' });
      const done = await cli(['restore', 'latest', '--target', target, '--request-archived']);
      expect(done.stderr).toBe('');
      expect(done.code).toBe(0);
      expect(await describeTree(join(target, 'Documents'))).toEqual(
        await describeTree(join(work, 'Documents')),
      );
      expect((await cli(['verify', '--read-data'])).code).toBe(0);
    });

    it('--wait asks, waits and restores in one run; verify --read-data --request-archived reads on the next', async () => {
      await transition('GLACIER');
      const target = join(work, 'target-3');
      const waited = await cli([
        'restore',
        'latest',
        '--target',
        target,
        '--request-archived',
        '--tier',
        'Expedited',
        '--wait',
      ]);
      expect(waited.code).toBe(0);
      expect(waited.stderr).toContain('asking S3 to restore 2 archived object(s) (20 B), Expedited tier');
      expect(await describeTree(join(target, 'Documents'))).toEqual(
        await describeTree(join(work, 'Documents')),
      );

      await transition('GLACIER');
      const requested = await cli(['verify', '--read-data', '--request-archived']);
      expect(requested.code).toBe(8);
      expect(requested.stdout).toContain('asked S3 to restore 2 of them');
      const read = await cli(['verify', '--read-data']);
      expect(read.stdout).toContain('2 read from restored copies, 0 not read (archived), 0 being restored');
      expect(read.code).toBe(0);
    });

    it('reads archived objects from a replica that holds them readable, asking S3 for nothing', async () => {
      const config = JSON.parse(await readFile(join(work, 'twinvault.json'), 'utf8'));
      config.replicas = [{ url: `s3://${replicaBucket}/repo`, ...connectionSettings(moto!) }];
      await writeFile(join(work, 'twinvault.json'), JSON.stringify(config));
      // A transition before the replica had notes.txt: the pass reports it and copies the rest.
      const [notes] = await transition('DEEP_ARCHIVE', /notes\.txt$/);
      const behind = await cli(['replicate']);
      expect(behind.code).toBe(3);
      expect(behind.stdout + behind.stderr).toContain('is archived (DEEP_ARCHIVE) in s3://');
      // Restored in the repository (moto restores at once), it can be copied; then everything goes cold.
      const client = s3();
      await client.send(
        new RestoreObjectCommand({
          Bucket: bucket,
          Key: notes!,
          RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Bulk' } },
        }),
      );
      client.destroy();
      const replicated = await cli(['replicate']);
      expect(replicated.code).toBe(0);
      await transition('DEEP_ARCHIVE');
      const target = join(work, 'target-4');
      const restored = await cli(['restore', 'latest', '--target', target]);
      expect(restored.code).toBe(0);
      expect(restored.stderr).toContain(
        `2 archived object(s) (20 B) read from the replica s3://${replicaBucket}/repo instead of being retrieved from the archive`,
      );
      expect(await describeTree(join(target, 'Documents'))).toEqual(
        await describeTree(join(work, 'Documents')),
      );
      const after = s3();
      for (const key of await archivedKeys()) {
        expect(
          (await after.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore,
        ).toBeUndefined();
      }
      after.destroy();
    });

    async function archivedKeys(): Promise<string[]> {
      const client = s3();
      const keys: string[] = [];
      for await (const page of paginateListObjectsV2(
        { client },
        { Bucket: bucket, Prefix: 'repo/laptop/' },
      )) {
        for (const object of page.Contents ?? [])
          if (object.StorageClass !== 'STANDARD') keys.push(object.Key!);
      }
      client.destroy();
      return keys;
    }
  });
});
