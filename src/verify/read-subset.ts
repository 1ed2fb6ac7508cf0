import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/**
 * Which objects `--read-data` downloads: all; a percentage chosen at random; or subset n of m,
 * chosen by a hash of the key, so that running 1/m, 2/m, ... m/m reads every object exactly once
 * (restic's --read-data-subset n/m).
 */
export type ReadSubset =
  | { kind: 'all' }
  | { kind: 'percent'; percent: number }
  | { kind: 'slice'; n: number; m: number };

export function parseReadSubset(value: string | true): ReadSubset {
  if (value === true || value === '') return { kind: 'all' };
  const slice = /^(\d+)\/(\d+)$/.exec(value);
  if (slice) {
    const [n, m] = [Number(slice[1]), Number(slice[2])];
    if (m >= 1 && n >= 1 && n <= m) return { kind: 'slice', n, m };
  }
  const percent = /^(\d+(?:\.\d+)?)%?$/.exec(value);
  if (percent && Number(percent[1]) > 0 && Number(percent[1]) <= 100)
    return { kind: 'percent', percent: Number(percent[1]) };
  throw new UsageError(`--read-data=${value}: give a percentage ("10%") or a subset n/m ("2/7")`);
}

export function isSelected(subset: ReadSubset, key: string, random: () => number = Math.random): boolean {
  switch (subset.kind) {
    case 'all':
      return true;
    case 'percent':
      return random() * 100 < subset.percent;
    case 'slice':
      return createHash('sha256').update(key).digest().readUInt32BE(0) % subset.m === subset.n - 1;
  }
}
