import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IgnoreRules } from './ignore-rules.js';
import { type ScanConsumer, ScanHandle, scanSources } from './parallel-scan.js';
import { RECORD_FIELDS } from './records.js';
import type { SourceSpec } from './walker.js';

/** Every record as "path stat", sorted, plus skips and notes. */
async function collect(sources: SourceSpec[], threads: number) {
  const records: string[] = [];
  const notes: string[] = [];
  const consumer: ScanConsumer = {
    records(batch) {
      const fields = batch.split('\0');
      for (let i = 0; i < fields.length; i += RECORD_FIELDS) records.push(`${fields[i]} ${fields[i + 2]}`);
    },
    skip: (path, reason) => notes.push(`skip ${path}: ${reason}`),
    note: (path, message) => notes.push(`note ${path}: ${message}`),
  };
  await scanSources(sources, consumer, threads);
  return { records: records.sort(), notes: notes.sort() };
}

describe('parallel scan', () => {
  let root: string;
  let sources: SourceSpec[];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'twinvault-scan-'));
    // Deep and wide, so work is handed between threads many times.
    for (let a = 0; a < 30; a++) {
      for (let b = 0; b < 8; b++) {
        const dir = join(root, 'src', `a${a}`, `b${b}`, 'c');
        mkdirSync(dir, { recursive: true });
        for (let f = 0; f < 5; f++) writeFileSync(join(dir, `f${f}`), `${a}/${b}/${f}`);
      }
    }
    mkdirSync(join(root, 'src', 'cache'));
    writeFileSync(join(root, 'src', 'cache', 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55');
    symlinkSync('a0', join(root, 'src', 'link'));
    mkdirSync(join(root, 'other', 'x'), { recursive: true });
    writeFileSync(join(root, 'other', 'x', 'y'), 'y');
    const rules = IgnoreRules.forSource([], []).spec;
    sources = [
      { root: join(root, 'src'), name: 'src', rules },
      { root: join(root, 'other'), name: 'other', rules },
    ];
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('delivers every record exactly once with one, two or three threads, as a scan on this thread does', async () => {
    const here = await collect(sources, 0);
    expect(here.records.length).toBe(1 + 30 * (1 + 8 * (2 + 5)) + 1 + 3);
    expect(here.notes).toEqual([`note src/cache: skipped: a cache folder (CACHEDIR.TAG)`]);
    for (const threads of [1, 2, 3, 2, 2, 2, 2, 2, 3, 3])
      expect(await collect(sources, threads)).toEqual(here);
  });

  it('keeps what a started scan finds until it is consumed', async () => {
    const handle = new ScanHandle(sources, 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const records: string[] = [];
    await handle.consume({
      records: (batch) => {
        const fields = batch.split('\0');
        for (let i = 0; i < fields.length; i += RECORD_FIELDS) records.push(fields[i]!);
      },
      skip() {},
      note() {},
    });
    expect(records.length).toBe((await collect(sources, 0)).records.length);
  });

  it('reports a missing source and scans the others', async () => {
    const result = await collect(
      [{ ...sources[1]!, root: join(root, 'nope'), name: 'nope' }, sources[1]!],
      2,
    );
    expect(result.notes).toEqual([
      `skip nope: cannot read source folder ${join(root, 'nope')}: it vanished while being read`,
    ]);
    expect(result.records.map((record) => record.split(' ')[0])).toEqual(['other', 'other/x', 'other/x/y']);
  });

  it('can be stopped', async () => {
    const handle = new ScanHandle(sources, 2);
    handle.stop();
    await expect(handle.done).rejects.toThrow('stopped');
  });
});
