import { describe, expect, it } from 'vitest';
import { msToNs } from './file-stat.js';

describe('msToNs', () => {
  it('turns millisecond doubles into nanosecond strings', () => {
    expect(msToNs(1700000000123.5)).toBe('1700000000123500000');
    expect(msToNs(1700000000123.25)).toBe('1700000000123250000');
    expect(msToNs(0)).toBe('0');
    expect(msToNs(1.5)).toBe('1500000');
    expect(msToNs(999.9999999)).toBe('1000000000');
    expect(msToNs(-1.5)).toBe('-1500000');
  });
});
