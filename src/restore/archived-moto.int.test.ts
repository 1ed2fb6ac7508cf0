import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdRestoresInProgress, setRestoreProgression } from '../../test/moto-state.js';
import { createTestBucket, s3Server, testBackend } from '../../test/s3.js';
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
});
