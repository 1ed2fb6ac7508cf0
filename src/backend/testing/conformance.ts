import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend.js';
import { bodyFromBuffer, readAll } from '../body.js';
import { MemoryBackend } from '../memory/memory-backend.js';

export interface ConformanceSetup {
  backend: Backend;
  /** Called once after the suite; removes buckets or folders the setup made. */
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Size of the "large" object: above the backend's multipart threshold, where it has one. */
  largeObjectSize: number;
  /** Size of the object copied above the multipart-copy threshold, where it has one. */
  largeCopySize: number;
}

const MANY_KEYS = 2600;
const AWKWARD_KEYS = [
  'unicode/naïve café ☕ 日本語.txt',
  'spaces/a file with  spaces',
  'plus/a+b=c',
  'percent/100%25 done%',
  'question/why?.txt',
  'mixed/ü+ %?#&=.bin',
];

/**
 * The behaviour every backend must share (restic's backend/test suite, rclone's fstests). Run by
 * the memory, local-folder and S3 (MinIO and moto) backends; a new backend adds one call.
 */
export function describeBackendConformance(
  name: string,
  setup: () => Promise<ConformanceSetup>,
  options: ConformanceOptions,
) {
  describe(`backend conformance: ${name}`, () => {
    let backend: Backend;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ backend, cleanup } = await setup());
    });
    afterAll(async () => {
      await cleanup?.();
      await backend?.close();
    });

    const text = async (key: string, range?: { offset: number; length?: number }) =>
      (await readAll(await backend.get(key, range ? { range } : {}))).toString('utf8');

    it('checks that its location is usable, and create() leaves an existing one alone', async () => {
      await expect(backend.check()).resolves.toBeUndefined();
      await backend.put('create/kept', bodyFromBuffer('kept'));
      await backend.create();
      expect(await text('create/kept')).toBe('kept');
    });

    it('does not treat a folder-like prefix of other keys as an object', async () => {
      await backend.put('folderish/inner', bodyFromBuffer('x'));
      await expect(backend.get('folderish')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(backend.head('folderish')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('lets exactly one of several concurrent create-only writes win', async () => {
      const attempts = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          backend.put('create-only/race', bodyFromBuffer(`writer ${i}`), { createOnly: true }),
        ),
      );
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const attempt of attempts) {
        if (attempt.status === 'rejected') expect(attempt.reason).toMatchObject({ code: 'ALREADY_EXISTS' });
      }
    });

    it('stores, reads and describes a small object', async () => {
      await backend.put('small/hello.txt', bodyFromBuffer('hello, world'), {
        contentType: 'text/plain',
        metadata: { sha256: sha256('hello, world') },
      });
      expect(await text('small/hello.txt')).toBe('hello, world');
      const head = await backend.head('small/hello.txt');
      expect(head.size).toBe(12);
      expect(head.key).toBe('small/hello.txt');
      if (backend.capabilities.metadata) {
        expect(head.metadata.sha256).toBe(sha256('hello, world'));
        expect(head.contentType).toBe('text/plain');
      }
    });

    it('replaces an object on a plain put', async () => {
      await backend.put('small/replace.txt', bodyFromBuffer('first'));
      await backend.put('small/replace.txt', bodyFromBuffer('second version'));
      expect(await text('small/replace.txt')).toBe('second version');
      expect((await backend.head('small/replace.txt')).size).toBe(14);
    });

    it('stores an empty object', async () => {
      await backend.put('small/empty', bodyFromBuffer(''));
      expect(await text('small/empty')).toBe('');
      expect((await backend.head('small/empty')).size).toBe(0);
    });

    it('classifies a missing object as not found', async () => {
      await expect(backend.get('missing/nothing-here')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(backend.head('missing/nothing-here')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(backend.copy('missing/nothing-here', 'missing/copy')).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('round-trips a large (multipart) object byte for byte', async () => {
      const data = randomBytes(options.largeObjectSize);
      await backend.put('large/blob.bin', bodyFromBuffer(data), { metadata: { sha256: sha256(data) } });
      const back = await readAll(await backend.get('large/blob.bin'));
      expect(back.length).toBe(data.length);
      expect(sha256(back)).toBe(sha256(data));
      expect((await backend.head('large/blob.bin')).size).toBe(data.length);
    });

    it('reads byte ranges', async () => {
      await backend.put('range/digits', bodyFromBuffer('0123456789'));
      expect(await text('range/digits', { offset: 2, length: 3 })).toBe('234');
      expect(await text('range/digits', { offset: 7 })).toBe('789');
      expect(await text('range/digits', { offset: 8, length: 100 })).toBe('89');
      expect(await text('range/digits', { offset: 0, length: 0 })).toBe('');
      expect(await text('range/digits', { offset: 10 })).toBe('');
      await expect(backend.get('range/missing', { range: { offset: 0, length: 1 } })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(backend.get('range/digits', { range: { offset: -1, length: 2 } })).rejects.toMatchObject({
        code: 'USAGE',
      });
    });

    it(`lists, pages through and deletes ${MANY_KEYS} keys`, async () => {
      const keys = Array.from({ length: MANY_KEYS }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      await inBatches(keys, 32, (key) => backend.put(key, bodyFromBuffer(key)));
      const listed = await collect(backend.list('many/'));
      expect(listed.map((o) => o.key)).toEqual(keys);
      expect(listed.every((o) => o.size === 10 && o.lastModified instanceof Date && o.etag !== '')).toBe(
        true,
      );

      const after = await collect(backend.list('many/', { startAfter: keys[1499]! }));
      expect(after.map((o) => o.key)).toEqual(keys.slice(1500));

      const result = await backend.deleteMany(keys);
      expect(result).toEqual({ deleted: MANY_KEYS, failed: [] });
      expect(await collect(backend.list('many/'))).toEqual([]);
    });

    it('lists keys in UTF-8 byte order and only under the prefix', async () => {
      const keys = ['order/a/b', 'order/a.txt', 'order/a-b', 'order/ä', 'order/Z', 'order/😀', 'order/ｚ'];
      for (const key of keys) await backend.put(key, bodyFromBuffer('x'));
      await backend.put('orderly', bodyFromBuffer('not in order/'));
      const listed = (await collect(backend.list('order/'))).map((o) => o.key);
      const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(listed).toEqual(expected);
      expect((await collect(backend.list('order/a'))).map((o) => o.key)).toEqual(
        expected.filter((key) => key.startsWith('order/a')),
      );
    });

    it('copies an object, keeping content and metadata', async () => {
      await backend.put('copy/source.txt', bodyFromBuffer('copy me'), {
        contentType: 'text/plain',
        metadata: { sha256: sha256('copy me') },
      });
      await backend.copy('copy/source.txt', 'copy/target.txt');
      expect(await text('copy/target.txt')).toBe('copy me');
      expect(await text('copy/source.txt')).toBe('copy me');
      if (backend.capabilities.metadata) {
        const head = await backend.head('copy/target.txt');
        expect(head.metadata.sha256).toBe(sha256('copy me'));
        expect(head.contentType).toBe('text/plain');
      }
    });

    it('copies an object above the multipart-copy threshold', async () => {
      const data = randomBytes(options.largeCopySize);
      await backend.put('copy/large-source', bodyFromBuffer(data), {
        contentType: 'application/octet-stream',
        metadata: { sha256: sha256(data) },
      });
      await backend.copy('copy/large-source', 'copy/large-target');
      const back = await readAll(await backend.get('copy/large-target'));
      expect(sha256(back)).toBe(sha256(data));
      if (backend.capabilities.metadata) {
        expect((await backend.head('copy/large-target')).metadata.sha256).toBe(sha256(data));
      }
    });

    it('copies from another backend by streaming', async () => {
      const other = new MemoryBackend('memory://conformance-other');
      await other.put('elsewhere/x.bin', bodyFromBuffer('from another store'), {
        metadata: { sha256: 'abc' },
      });
      await backend.copy('elsewhere/x.bin', 'copy/from-other.bin', { from: other });
      expect(await text('copy/from-other.bin')).toBe('from another store');
      if (backend.capabilities.metadata) {
        expect((await backend.head('copy/from-other.bin')).metadata.sha256).toBe('abc');
      }
    });

    it('deletes one object, and a missing one without error', async () => {
      await backend.put('delete/me', bodyFromBuffer('bye'));
      await backend.delete('delete/me');
      await expect(backend.head('delete/me')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(backend.delete('delete/me')).resolves.toBeUndefined();
      expect(await backend.deleteMany(['delete/never-existed'])).toEqual({ deleted: 1, failed: [] });
    });

    it('refuses a create-only write over an existing object', async () => {
      await backend.put('create-only/lock.json', bodyFromBuffer('first'), { createOnly: true });
      await expect(
        backend.put('create-only/lock.json', bodyFromBuffer('second'), { createOnly: true }),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(await text('create-only/lock.json')).toBe('first');
    });

    it('handles keys with unicode, spaces, "+", "%" and "?"', async () => {
      for (const key of AWKWARD_KEYS) {
        await backend.put(key, bodyFromBuffer(`content of ${key}`), { metadata: { note: 'awkward' } });
      }
      const listed = new Set<string>();
      for (const key of AWKWARD_KEYS) {
        for await (const object of backend.list(key.split('/')[0]!)) listed.add(object.key);
        expect(await text(key)).toBe(`content of ${key}`);
        expect((await backend.head(key)).size).toBe(Buffer.byteLength(`content of ${key}`));
        await backend.copy(key, `${key}.copy`);
        expect(await text(`${key}.copy`)).toBe(`content of ${key}`);
      }
      for (const key of AWKWARD_KEYS) expect(listed).toContain(key);
      const result = await backend.deleteMany(AWKWARD_KEYS.flatMap((key) => [key, `${key}.copy`]));
      expect(result.failed).toEqual([]);
      for (const key of AWKWARD_KEYS)
        await expect(backend.head(key)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('reports a hot object as not archived, and a restore request for it as needless', async () => {
      expect(typeof backend.capabilities.archive).toBe('boolean');
      await backend.put('hot/object', bodyFromBuffer('readable now'));
      expect((await backend.head('hot/object')).archive).toBeUndefined();
      const [listed] = await collect(backend.list('hot/'));
      expect(listed?.archive).toBeUndefined();
      expect(await backend.requestRestore('hot/object', { tier: 'Bulk', days: 1 })).toBe('not-archived');
      await expect(backend.requestRestore('hot/missing', { tier: 'Bulk', days: 1 })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(await text('hot/object')).toBe('readable now');
    });

    it('rejects keys that could escape the repository or that no store can hold', async () => {
      for (const key of [
        '../escape',
        'a/../../b',
        '/absolute',
        'trailing/',
        'a//b',
        '',
        'nul\u0000byte',
        'x'.repeat(1025),
      ]) {
        await expect(backend.put(key, bodyFromBuffer('x'))).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.get(key)).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.head(key)).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.delete(key)).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.copy('small/hello.txt', key)).rejects.toMatchObject({ code: 'USAGE' });
        await expect(backend.requestRestore(key, { tier: 'Bulk', days: 1 })).rejects.toMatchObject({
          code: 'USAGE',
        });
      }
      await expect(collect(backend.list('../'))).rejects.toMatchObject({ code: 'USAGE' });
    });

    it('fails a write whose body is shorter or longer than declared, storing nothing', async () => {
      const short = { size: 10, open: () => Readable.from([Buffer.from('12345')]) };
      await expect(backend.put('sizes/short', short)).rejects.toMatchObject({ code: 'INTEGRITY' });
      const long = { size: 3, open: () => Readable.from([Buffer.from('123456')]) };
      await expect(backend.put('sizes/long', long)).rejects.toMatchObject({ code: 'INTEGRITY' });
      await expect(backend.head('sizes/short')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(backend.head('sizes/long')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('stores nothing when the body fails after giving every byte (a check at its end failed)', async () => {
      // The backup's last word on a file it streams (file-saver.ts): were the bytes the ones hashed?
      for (const size of [1000, options.largeObjectSize]) {
        const data = randomBytes(size);
        const failing = {
          size,
          open: () =>
            Readable.from(
              (async function* () {
                yield data;
                throw new Error('the file changed while it was sent');
              })(),
            ),
        };
        await expect(backend.put(`late-failure/${size}`, failing)).rejects.toThrow();
        await expect(backend.head(`late-failure/${size}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      }
    });
  });
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}
