import { describe, expect, it } from 'vitest';
import { archiveStateFromHead } from './restore-status.js';

const now = new Date('2026-03-01T00:00:00Z');

describe('archiveStateFromHead', () => {
  it('is undefined for an object that is not archived', () => {
    expect(archiveStateFromHead({}, now)).toBeUndefined();
    expect(archiveStateFromHead({ StorageClass: 'GLACIER_IR' }, now)).toBeUndefined();
    expect(archiveStateFromHead({ StorageClass: 'STANDARD_IA', Restore: 'junk' }, now)).toBeUndefined();
  });

  it('reads the x-amz-restore header of an archived object', () => {
    expect(archiveStateFromHead({ StorageClass: 'GLACIER' }, now)).toEqual({ restore: 'none' });
    expect(
      archiveStateFromHead({ StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="true"' }, now),
    ).toEqual({
      restore: 'in-progress',
    });
    expect(
      archiveStateFromHead(
        {
          StorageClass: 'GLACIER',
          Restore: 'ongoing-request="false", expiry-date="Fri, 06 Mar 2026 00:00:00 GMT"',
        },
        now,
      ),
    ).toEqual({ restore: 'restored', restoredUntil: new Date('2026-03-06T00:00:00Z') });
    // An expired copy (S3 drops the header soon after) is archived again.
    expect(
      archiveStateFromHead(
        {
          StorageClass: 'GLACIER',
          Restore: 'ongoing-request="false", expiry-date="Fri, 27 Feb 2026 00:00:00 GMT"',
        },
        now,
      ),
    ).toEqual({ restore: 'none' });
  });

  it("sees Intelligent-Tiering's archive tiers, which keep their class name", () => {
    expect(
      archiveStateFromHead(
        { StorageClass: 'INTELLIGENT_TIERING', ArchiveStatus: 'DEEP_ARCHIVE_ACCESS' },
        now,
      ),
    ).toEqual({ restore: 'none', tier: 'DEEP_ARCHIVE_ACCESS' });
  });
});
