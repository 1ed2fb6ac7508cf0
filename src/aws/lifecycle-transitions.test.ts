import { describe, expect, it } from 'vitest';
import { lifecycleRules } from './lifecycle.js';
import { contentTransitions, firstArchiveDay } from './lifecycle-transitions.js';

const none = { infrequentAccess: 0, glacierInstant: 0, glacier: 0, deepArchive: 0 };

describe('contentTransitions', () => {
  it('orders the chosen classes from warm to cold', () => {
    const transitions = contentTransitions({
      infrequentAccess: 30,
      glacierInstant: 0,
      glacier: 60,
      deepArchive: 150,
    });
    expect(transitions).toEqual([
      { Days: 30, StorageClass: 'STANDARD_IA' },
      { Days: 60, StorageClass: 'GLACIER' },
      { Days: 150, StorageClass: 'DEEP_ARCHIVE' },
    ]);
    expect(firstArchiveDay(transitions)).toBe(60);
    expect(contentTransitions({ ...none, deepArchive: 30 })).toEqual([
      { Days: 30, StorageClass: 'DEEP_ARCHIVE' },
    ]);
    expect(firstArchiveDay(contentTransitions({ ...none, glacierInstant: 90 }))).toBeUndefined();
    expect(contentTransitions(none)).toEqual([]);
  });

  it('refuses an archive transition sooner than 30 days: replicas must have copied the object by then', () => {
    expect(() => contentTransitions({ ...none, glacier: 1 })).toThrow(
      '--glacier-days 1 is too soon: content moves to an archive class after 30 days at the earliest',
    );
    expect(() => contentTransitions({ ...none, deepArchive: 29 })).toThrow(
      '--deep-archive-days 29 is too soon',
    );
  });

  it('keeps each class as long as it is billed before the next (no minimum-duration charge)', () => {
    expect(() => contentTransitions({ ...none, infrequentAccess: 10 })).toThrow(
      'after 30 days at the earliest',
    );
    expect(() => contentTransitions({ ...none, infrequentAccess: 30, glacierInstant: 45 })).toThrow(
      '--glacier-ir-days must be at least 30 days after --ia-days (Standard-IA bills 30 days at least)',
    );
    expect(() => contentTransitions({ ...none, glacierInstant: 90, deepArchive: 120 })).toThrow(
      '--deep-archive-days must be at least 90 days after --glacier-ir-days (GLACIER_IR bills 90 days at least)',
    );
    expect(() => contentTransitions({ ...none, glacier: 60, deepArchive: 100 })).toThrow(
      '--deep-archive-days must be at least 90 days after --glacier-days',
    );
    expect(contentTransitions({ ...none, glacierInstant: 90, deepArchive: 180 })).toHaveLength(2);
  });

  it('puts archive transitions on the host folders only, never on .twinvault/ or the whole prefix', () => {
    const rules = lifecycleRules({
      prefix: 'repo',
      hosts: ['laptop', 'desk'],
      transitions: contentTransitions({ ...none, deepArchive: 180 }),
      abortMultipartDays: 7,
      versioned: true,
    });
    const withTransitions = rules.filter((rule) => rule.Transitions !== undefined);
    expect(withTransitions.map((rule) => rule.Filter?.Prefix)).toEqual(['repo/desk/', 'repo/laptop/']);
    for (const rule of withTransitions) {
      expect(rule.Transitions).toEqual([{ Days: 180, StorageClass: 'DEEP_ARCHIVE' }]);
      expect(rule.NoncurrentVersionTransitions).toBeUndefined();
    }
    expect(rules.some((rule) => rule.Filter?.Prefix?.startsWith('repo/.twinvault'))).toBe(false);
  });
});
