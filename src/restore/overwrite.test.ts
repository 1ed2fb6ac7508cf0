import { describe, expect, it } from 'vitest';
import { decideOverwrite, type OverwriteMode } from './overwrite.js';

const SNAPSHOT = 1_700_000_000_000_000_000n;
const SECOND = 1_000_000_000n;

describe('what a restore does with an existing local file', () => {
  // mode, local time relative to the snapshot's version, same content → action
  const cases: Array<[OverwriteMode, bigint, boolean, string]> = [
    ['keep-newer', SECOND, false, 'keep-newer'],
    ['keep-newer', SECOND, true, 'skip-identical'], // newer but identical: nothing to keep
    ['keep-newer', -SECOND, false, 'replace'],
    ['keep-newer', 0n, false, 'replace'], // same age, other content: damaged since, repaired
    ['keep-newer', 240n, false, 'replace'], // utimes() rounding of a file this restore wrote
    ['keep-newer', 2000n, false, 'keep-newer'],
    ['keep-newer', -SECOND, true, 'skip-identical'],
    ['if-changed', SECOND, false, 'replace'],
    ['if-changed', SECOND, true, 'skip-identical'],
    ['if-changed', -SECOND, false, 'replace'],
    ['always', SECOND, true, 'replace'],
    ['always', -SECOND, false, 'replace'],
    ['never', -SECOND, false, 'skip-existing'],
    ['never', SECOND, true, 'skip-existing'],
  ];
  for (const [mode, offset, same, expected] of cases) {
    it(`${mode}: local ${offset >= 0n ? '+' : ''}${offset} ns, ${same ? 'same' : 'other'} content → ${expected}`, async () => {
      expect(
        await decideOverwrite({
          mode,
          localMtimeNs: SNAPSHOT + offset,
          snapshotMtimeNs: SNAPSHOT,
          sameContent: async () => same,
        }),
      ).toBe(expected);
    });
  }

  it('reads the local file only when the answer depends on it', async () => {
    let asked = 0;
    const sameContent = async () => {
      asked++;
      return false;
    };
    const question = { localMtimeNs: SNAPSHOT, snapshotMtimeNs: SNAPSHOT, sameContent };
    await decideOverwrite({ ...question, mode: 'never' });
    await decideOverwrite({ ...question, mode: 'always' });
    expect(asked).toBe(0);
  });
});
