import { describe, expect, it } from 'vitest';
import { estimateRetrieval, formatUsd } from './retrieval-prices.js';

const GIB = 1024 ** 3;

describe('estimateRetrieval (golden figures, AWS us-east-1 list prices)', () => {
  it('prices the GB retrieved, the requests, and the restored copy for the days kept', () => {
    // 1,000 objects of 100 MiB in Deep Archive: 97.66 GiB.
    const objects = Array.from({ length: 1000 }, () => ({
      size: 100 * 1024 ** 2,
      storageClass: 'DEEP_ARCHIVE',
    }));
    const gib = (1000 * 100) / 1024;
    const copy = gib * 0.023 * (7 / 30);
    const bulk = estimateRetrieval(objects, 'Bulk', 7);
    expect(bulk).toMatchObject({
      tier: 'Bulk',
      objects: 1000,
      bytes: 1000 * 100 * 1024 ** 2,
      unavailableFor: [],
    });
    expect(bulk.usd).toBeCloseTo(gib * 0.0025 + 0.025 + copy, 6);
    expect(bulk.usd).toBeCloseTo(0.793, 3);
    const standard = estimateRetrieval(objects, 'Standard', 7);
    expect(standard.usd).toBeCloseTo(gib * 0.02 + 0.1 + copy, 6);
    expect(estimateRetrieval(objects, 'Expedited', 7).unavailableFor).toEqual(['DEEP_ARCHIVE']);
  });

  it('Glacier Flexible Retrieval: Bulk retrieval is free, Expedited costs $10 per 1,000 requests', () => {
    const objects = [{ size: GIB, storageClass: 'GLACIER' }];
    expect(estimateRetrieval(objects, 'Bulk', 1).usd).toBeCloseTo(0.023 / 30, 6);
    expect(estimateRetrieval(objects, 'Expedited', 1).usd).toBeCloseTo(0.03 + 0.01 + 0.023 / 30, 6);
  });

  it('shows estimates to the cent, and less than a cent as such', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(0.004)).toBe('< $0.01');
    expect(formatUsd(12.345)).toBe('$12.35');
  });
});
