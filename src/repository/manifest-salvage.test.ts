import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fileEntry, headerFor, manifestBytes } from '../../test/manifests.js';
import type { Entry } from './manifest.js';
import { decodeManifestBuffer } from './manifest-codec.js';
import { salvageManifest } from './manifest-salvage.js';
import { refFor } from './snapshots.js';

const ref = refFor('laptop', '20260101_000000');
const WHERE = 'memory://test/m.json.gz';
const names = Array.from({ length: 10 }, (_, i) => `src/file-${i}`);
const entries = names.map((name) => fileEntry(name));
const pathsOf = (list: Entry[]) => list.map((entry) => entry.path);

/** Header and ten entries, each line its own gzip member (as twinvault's blocks are). */
const multi = () => manifestBytes(headerFor(ref, 10), entries, { members: true });
const memberStarts = (gz: Buffer) => {
  const starts: number[] = [];
  let at = 0;
  for (const line of [JSON.stringify(headerFor(ref, 10)), ...entries.map((e) => JSON.stringify(e))]) {
    starts.push(at);
    at += gzipSync(`${line}\n`).length;
  }
  expect(at).toBe(gz.length);
  return starts;
};

describe('salvaging a damaged manifest', () => {
  it('an intact manifest: everything, nothing lost', () => {
    const salvaged = salvageManifest(multi(), WHERE);
    expect(pathsOf(salvaged.entries)).toEqual(names);
    expect(salvaged).toMatchObject({ lost: 0, problems: [] });
  });

  it('one line that is not JSON: the others, and the line named', () => {
    const lines: Array<Entry | string> = [...entries];
    lines[3] = '{"type": "file", "path": "src/file-3", "mo';
    for (const members of [false, true]) {
      const gz = manifestBytes(headerFor(ref, 10), lines, { members });
      expect(() => decodeManifestBuffer(gz, WHERE)).toThrow(/line 5 is not valid JSON/);
      const salvaged = salvageManifest(gz, WHERE);
      expect(pathsOf(salvaged.entries)).toEqual(names.filter((n) => n !== 'src/file-3'));
      expect(salvaged.lost).toBe(1);
      expect(salvaged.problems).toEqual(['line 5 is not valid JSON']);
    }
  });

  it('a stream cut short, one member or many: every entry before the cut', () => {
    // Deflate packs repeated text into few bytes: most of one member's entries sit in its last ones.
    for (const [gz, cutAt, atLeast] of [
      [manifestBytes(headerFor(ref, 10), entries), 0.93, 1],
      [multi(), 0.6, 4],
    ] as const) {
      const cut = gz.subarray(0, Math.floor(gz.length * cutAt));
      const salvaged = salvageManifest(cut, WHERE);
      expect(salvaged.entries.length).toBeGreaterThanOrEqual(atLeast);
      expect(salvaged.entries.length).toBeLessThan(10);
      expect(pathsOf(salvaged.entries)).toEqual(names.slice(0, salvaged.entries.length));
      expect(salvaged.lost).toBe(10 - salvaged.entries.length);
      expect(salvaged.problems.join()).toMatch(/cannot be inflated/);
    }
  });

  it('a damaged member in the middle costs that member only', () => {
    const gz = multi();
    const starts = memberStarts(gz);
    // Member 5 holds entry 4 (src/file-4): its deflate data is overwritten.
    const damaged = Buffer.from(gz);
    damaged.fill(0xff, starts[5]! + 10, starts[5]! + 16);
    const salvaged = salvageManifest(damaged, WHERE);
    expect(pathsOf(salvaged.entries)).toEqual(names.filter((n) => n !== 'src/file-4'));
    expect(salvaged.lost).toBe(1);
  });

  it('a member whose text fails its CRC-32 is not trusted', () => {
    const gz = multi();
    const starts = memberStarts(gz);
    const damaged = Buffer.from(gz);
    // The CRC-32 of member 3 (src/file-2), the last 8 bytes before member 4.
    damaged[starts[4]! - 8]! ^= 0x01;
    const salvaged = salvageManifest(damaged, WHERE);
    expect(pathsOf(salvaged.entries)).toEqual(names.filter((n) => n !== 'src/file-2'));
  });

  it('bytes that belong to no member are skipped', () => {
    const gz = multi();
    const starts = memberStarts(gz);
    const withGarbage = Buffer.concat([
      gz.subarray(0, starts[6]!),
      Buffer.from('garbage!'),
      gz.subarray(starts[6]!),
    ]);
    const salvaged = salvageManifest(withGarbage, WHERE);
    expect(pathsOf(salvaged.entries)).toEqual(names);
    expect(salvaged.problems.join()).toMatch(/not gzip data and were skipped/);
  });

  it('a line listed twice, out of order or too long is left out', () => {
    const lines: Array<Entry | string> = [
      entries[0]!,
      entries[1]!,
      entries[1]!,
      entries[0]!,
      `{"path":"${'x'.repeat(2 << 20)}"}`,
      entries[2]!,
    ];
    const salvaged = salvageManifest(manifestBytes(headerFor(ref, 3), lines), WHERE);
    expect(pathsOf(salvaged.entries)).toEqual(names.slice(0, 3));
    expect(salvaged.problems).toEqual([
      'line 4: "src/file-1" is listed twice (lines 3 and 4)',
      'line 5: "src/file-0" comes after "src/file-1" (line 3), out of path order',
      'line 6 is too long to be an entry',
    ]);
  });

  it('without a readable header there is nothing to salvage', () => {
    const gz = multi();
    const starts = memberStarts(gz);
    const damaged = Buffer.from(gz);
    damaged.fill(0, 0, starts[1]!);
    expect(() => salvageManifest(damaged, WHERE)).toThrow(/is damaged: its header cannot be read/);
    expect(() => salvageManifest(Buffer.from('plain text'), WHERE)).toThrow(/nothing in it can be inflated/);
  });
});

describe('random damage (seeded): strict readers refuse or read it all, salvage gives only true entries', () => {
  /** xorshift32: the same damage on every run. */
  const random = (() => {
    let state = 0x2545f491;
    return (below: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % below;
    };
  })();
  const originals = new Set(entries.map((entry) => JSON.stringify(entry)));
  const damages: Array<[string, (gz: Buffer) => Buffer]> = [
    [
      'flip a byte',
      (gz) => {
        const copy = Buffer.from(gz);
        copy[random(copy.length)]! ^= 1 + random(255);
        return copy;
      },
    ],
    ['cut short', (gz) => gz.subarray(0, random(gz.length))],
    [
      'overwrite a range',
      (gz) => {
        const copy = Buffer.from(gz);
        const at = random(copy.length);
        for (let i = at; i < Math.min(copy.length, at + 1 + random(40)); i++) copy[i] = random(256);
        return copy;
      },
    ],
    [
      'remove a range',
      (gz) => {
        const at = random(gz.length);
        return Buffer.concat([gz.subarray(0, at), gz.subarray(at + 1 + random(40))]);
      },
    ],
    [
      'insert garbage',
      (gz) => {
        const at = random(gz.length);
        const garbage = Buffer.from(Array.from({ length: 1 + random(40) }, () => random(256)));
        return Buffer.concat([gz.subarray(0, at), garbage, gz.subarray(at)]);
      },
    ],
  ];
  for (const [members, gz] of [
    ['one member', manifestBytes(headerFor(ref, 10), entries)],
    ['a member per line', multi()],
  ] as const) {
    for (const [label, damage] of damages) {
      it(`${members}, ${label}: 60 times`, () => {
        for (let round = 0; round < 60; round++) {
          const damaged = damage(gz);
          try {
            expect(decodeManifestBuffer(damaged, WHERE).entries).toEqual(entries);
          } catch (err) {
            expect(err).toMatchObject({ code: 'INTEGRITY' });
          }
          try {
            const salvaged = salvageManifest(damaged, WHERE);
            for (const entry of salvaged.entries) expect(originals).toContain(JSON.stringify(entry));
            expect(salvaged.lost).toBe(10 - salvaged.entries.length);
          } catch (err) {
            expect(err).toMatchObject({ code: 'INTEGRITY' });
          }
        }
      });
    }
  }
});
