import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dirEntry, fileEntry, headerFor, hostileLongLine, manifestBytes } from '../../test/manifests.js';
import type { Entry } from './manifest.js';
import {
  decodeManifest,
  decodeManifestAll,
  decodeManifestBuffer,
  decodeManifestBytes,
  decodeManifestHeader,
} from './manifest-codec.js';
import { LineSplitter } from './manifest-lines.js';
import { refFor } from './snapshots.js';

const ref = refFor('laptop', '20260101_000000');
const WHERE = 'memory://test/manifest.json.gz';

/** Every way a manifest is read: streamed, in memory, in memory with streaming beyond a size. */
const readers: Array<[string, (gz: Buffer) => Promise<Entry[]>]> = [
  [
    'streamed',
    async (gz) => {
      const { entries } = await decodeManifest(Readable.from([gz]), WHERE);
      const all: Entry[] = [];
      for await (const entry of entries) all.push(entry);
      return all;
    },
  ],
  ['in memory', async (gz) => decodeManifestBuffer(gz, WHERE).entries],
  ['whole', async (gz) => (await decodeManifestAll(gz, WHERE)).entries],
  [
    'opened',
    async (gz) => {
      const all: Entry[] = [];
      for await (const entry of (await decodeManifestBytes(gz, WHERE)).entries) all.push(entry);
      return all;
    },
  ],
];

describe('manifest bounds', () => {
  const header = headerFor(ref, 1);
  const hostile = hostileLongLine(header);

  it('the hostile manifest is small and inflates to 600 MB', () => {
    expect(hostile.length).toBeLessThan(700_000);
  });

  // (decodeManifestBuffer alone hands text this large over to the streamed path.)
  for (const [name, read] of readers.filter(([name]) => name !== 'in memory')) {
    it(`${name}: a 600 MB line is a damaged manifest naming it, not a crash`, async () => {
      await expect(read(hostile)).rejects.toMatchObject({
        code: 'INTEGRITY',
        message: expect.stringMatching(
          new RegExp(`manifest ${WHERE} is damaged: line 2 is longer than 1 MiB`),
        ),
      });
    });
  }

  it('a header line of 600 MB is damaged too, also when only the header is read', async () => {
    const member = gzipSync(Buffer.alloc(1 << 20, 'a'), { level: 9 });
    const gz = Buffer.concat(new Array(600).fill(member));
    await expect(decodeManifestHeader(Readable.from([gz]), WHERE)).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining('line 1 is longer than 16 MiB'),
    });
    await expect(decodeManifestAll(gz, WHERE)).rejects.toThrow(/line 1 is longer than 16 MiB/);
  });

  it('bounds the whole inflated text', () => {
    const splitter = new LineSplitter(WHERE, { maxTotal: 1000 });
    const line = Buffer.from(`${'x'.repeat(99)}\n`);
    for (let i = 0; i < 10; i++) splitter.push(line, () => {});
    expect(() => splitter.push(line, () => {})).toThrow(/inflates to more than 1000 bytes/);
  });

  it('splits lines across chunks, multi-byte characters included', () => {
    const text = Buffer.from('first line\nzwei: ü€😀\n\nlast');
    for (let cut = 0; cut <= text.length; cut++) {
      const lines: string[] = [];
      const splitter = new LineSplitter(WHERE);
      splitter.push(text.subarray(0, cut), (line) => lines.push(line));
      splitter.push(text.subarray(cut), (line) => lines.push(line));
      splitter.end((line) => lines.push(line));
      expect(lines).toEqual(['first line', 'zwei: ü€😀', '', 'last']);
    }
  });

  it('leaves out an over-long line when asked to, and goes on', () => {
    const lines: string[] = [];
    const skipped: number[] = [];
    const splitter = new LineSplitter(WHERE, { tooLong: (n) => skipped.push(n) });
    const long = Buffer.alloc(3 << 20, 'b');
    splitter.push(Buffer.from('header\nshort\n'), (line) => lines.push(line));
    splitter.push(long.subarray(0, 1 << 20), (line) => lines.push(line));
    splitter.push(long.subarray(1 << 20), (line) => lines.push(line));
    splitter.push(Buffer.from('\nafter\n'), (line) => lines.push(line));
    expect(lines).toEqual(['header', 'short', 'after']);
    expect(skipped).toEqual([3]);
  });
});

describe('paths in a manifest', () => {
  const cases: Array<[string, Entry[], RegExp]> = [
    [
      'a file listed twice',
      [fileEntry('src/a.txt'), fileEntry('src/a.txt')],
      /"src\/a.txt" is listed twice \(lines 2 and 3\)/,
    ],
    ['a folder and a file of one path', [dirEntry('src/a'), fileEntry('src/a')], /"src\/a" is listed twice/],
    [
      'entries out of path order',
      [fileEntry('src/b'), fileEntry('src/a')],
      /"src\/a" comes after "src\/b" \(line 2\), out of path order/,
    ],
    [
      'a non-UTF-8 name listed twice',
      [
        fileEntry('src/\uFFFD', {
          pathBytes: Buffer.from([0x73, 0x72, 0x63, 0x2f, 0xff]).toString('base64'),
        }),
        fileEntry('src/\uFFFD', {
          pathBytes: Buffer.from([0x73, 0x72, 0x63, 0x2f, 0xfe]).toString('base64'),
        }),
        fileEntry('src/\uFFFD', {
          pathBytes: Buffer.from([0x73, 0x72, 0x63, 0x2f, 0xff]).toString('base64'),
        }),
      ],
      /listed twice \(lines 2 and 4\)/,
    ],
    [
      'exact bytes that are another name than the path',
      [fileEntry('src/harmless', { pathBytes: Buffer.from('src/other').toString('base64') })],
      /the exact bytes \(pathBytes\) of "src\/harmless" are another name/,
    ],
  ];
  for (const [label, entries, message] of cases) {
    for (const [name, read] of readers) {
      it(`${name}: ${label} is a damaged manifest naming it and the path`, async () => {
        const gz = manifestBytes(headerFor(ref, entries.length), entries);
        await expect(read(gz)).rejects.toMatchObject({
          code: 'INTEGRITY',
          message: expect.stringMatching(message),
        });
        await expect(read(gz)).rejects.toThrow(WHERE);
      });
    }
  }

  it('two names that differ only in bytes that are not UTF-8 are both read', async () => {
    const entries = [
      fileEntry('src/a'),
      fileEntry('src/\uFFFD', { pathBytes: Buffer.from([0x73, 0x72, 0x63, 0x2f, 0xff]).toString('base64') }),
      fileEntry('src/\uFFFD', { pathBytes: Buffer.from([0x73, 0x72, 0x63, 0x2f, 0xfe]).toString('base64') }),
    ];
    for (const [, read] of readers) {
      expect(await read(manifestBytes(headerFor(ref, 3), entries))).toHaveLength(3);
    }
  });
});
