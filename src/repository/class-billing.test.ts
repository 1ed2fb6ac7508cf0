import { describe, expect, it } from 'vitest';
import { billedBytes, earlyDeletionCost, monthlyCost, priceTable } from './class-billing.js';

const KIB = 1024;
const MIB = 1024 ** 2;
const DAY = 86_400_000;
/** Made-up prices that make the figures round: 1,024 USD per GiB-month is 1 USD per MiB-month. */
const prices = priceTable({
  STANDARD: 1024,
  STANDARD_IA: 1024,
  GLACIER_IR: 1024,
  GLACIER: 1024,
  DEEP_ARCHIVE: 2048,
});

describe('class billing (golden figures)', () => {
  it('bills small objects in Standard-IA, One Zone-IA and Glacier IR as 128 KB: 32–128× a bytes-only figure', () => {
    expect(billedBytes(1 * KIB, 'STANDARD_IA')).toBe(128 * KIB);
    expect(billedBytes(4 * KIB, 'ONEZONE_IA')).toBe(128 * KIB);
    expect(billedBytes(200 * KIB, 'GLACIER_IR')).toBe(200 * KIB);
    expect(billedBytes(1 * KIB, 'STANDARD')).toBe(1 * KIB);
    expect(monthlyCost(1 * KIB, 'STANDARD_IA', prices)).toBe(0.125); // 128× the 1 KiB figure
    expect(monthlyCost(4 * KIB, 'GLACIER_IR', prices) / monthlyCost(4 * KIB, 'STANDARD', prices)).toBe(32);
  });

  it('adds 40 KB per archived object: 32 KB at the archive rate, 8 KB at STANDARD', () => {
    expect(billedBytes(1 * KIB, 'DEEP_ARCHIVE')).toBe(33 * KIB);
    // 33 KiB at 2 USD per MiB, 8 KiB at 1 USD per MiB.
    expect(monthlyCost(1 * KIB, 'DEEP_ARCHIVE', prices)).toBeCloseTo((33 * 2 + 8) / 1024, 12);
    expect(monthlyCost(1 * MIB, 'GLACIER', prices)).toBeCloseTo((1024 + 32 + 8) / 1024, 12);
  });

  it('uses AWS list prices unless told otherwise', () => {
    const list = priceTable();
    // 10,000 files of 4 KiB: 39 MiB. In STANDARD_IA they are billed as 1.22 GiB.
    const standard = 10_000 * monthlyCost(4 * KIB, 'STANDARD', list);
    const ia = 10_000 * monthlyCost(4 * KIB, 'STANDARD_IA', list);
    expect(standard).toBeCloseTo(((10_000 * 4) / 1024 ** 2) * 0.023, 9);
    expect(ia).toBeCloseTo(((10_000 * 128) / 1024 ** 2) * 0.0125, 9);
    expect(ia / standard).toBeCloseTo(17.39, 2); // cheaper per GB, yet 17× dearer for these files
  });

  it('charges the rest of the minimum duration on an early delete: 30 (IA), 90 (Glacier IR, Glacier), 180 days (Deep Archive)', () => {
    expect(earlyDeletionCost(1 * MIB, 'STANDARD_IA', 10 * DAY, prices)).toEqual({
      remainingDays: 20,
      usd: 20 / 30,
    });
    expect(earlyDeletionCost(1 * MIB, 'GLACIER_IR', 30 * DAY, prices)).toEqual({ remainingDays: 60, usd: 2 });
    const glacier = earlyDeletionCost(1 * MIB, 'GLACIER', 0, prices);
    expect(glacier.remainingDays).toBe(90);
    expect(glacier.usd).toBeCloseTo(((1024 + 32) / 1024) * 3, 12);
    expect(earlyDeletionCost(1 * MIB, 'DEEP_ARCHIVE', 150 * DAY, prices).remainingDays).toBe(30);
    expect(earlyDeletionCost(1 * MIB, 'DEEP_ARCHIVE', 200 * DAY, prices)).toEqual({
      remainingDays: 0,
      usd: 0,
    });
    expect(earlyDeletionCost(1 * MIB, 'STANDARD', 0, prices)).toEqual({ remainingDays: 0, usd: 0 });
    expect(earlyDeletionCost(1 * MIB, 'INTELLIGENT_TIERING', 0, prices).usd).toBe(0);
  });
});
