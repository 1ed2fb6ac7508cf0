import { describe, expect, it } from 'vitest';
import { lifecycleRules } from './lifecycle.js';
import { contentTransitions } from './lifecycle-transitions.js';

describe('lifecycleRules', () => {
  const base = {
    prefix: 'repo',
    hosts: ['laptop', 'desk', 'laptop'],
    transitions: contentTransitions({ infrequentAccess: 30, glacierInstant: 90, glacier: 0, deepArchive: 0 }),
    abortMultipartDays: 7,
  };

  it('one content rule per host, none for .twinvault/, and aborted uploads for the whole prefix', () => {
    const rules = lifecycleRules(base);
    expect(rules.map((r) => [r.ID, r.Filter?.Prefix])).toEqual([
      ['twinvault-abort-incomplete-uploads', 'repo/'],
      ['twinvault-content-desk', 'repo/desk/'],
      ['twinvault-content-laptop', 'repo/laptop/'],
    ]);
    expect(rules[0]!.AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 7 });
  });

  it('expires deleted versions in a versioned (Object Lock) bucket; no transitions when both are 0', () => {
    const rules = lifecycleRules({
      ...base,
      prefix: '',
      transitions: [],
      versioned: true,
    });
    expect(rules.map((r) => r.ID)).toEqual([
      'twinvault-abort-incomplete-uploads',
      'twinvault-deleted-versions',
    ]);
    expect(rules[1]).toMatchObject({
      Filter: { Prefix: '' },
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    });
  });
});
