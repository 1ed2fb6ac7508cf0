import { describe, expect, it } from 'vitest';
import { iamPolicy, type PolicyDocument } from './iam-policy.js';

/** "Sid: actions on resources", one line per statement, for exact comparisons. */
function summary(policy: PolicyDocument): string[] {
  return policy.Statement.map(
    (s) =>
      `${s.Sid}: ${s.Action.join(',')} on ${s.Resource.join(',')}${s.Condition ? ` if ${JSON.stringify(s.Condition)}` : ''}`,
  );
}

const prefixOnly = 'if {"StringLike":{"s3:prefix":["laptop-repo/*"]}}';

describe('iamPolicy', () => {
  it('agent: reads the repository, writes only its own content and manifests, deletes only locks', () => {
    expect(summary(iamPolicy({ role: 'agent', repository: 's3://bkt/laptop-repo', host: 'laptop' }))).toEqual(
      [
        `ListRepository: s3:ListBucket on arn:aws:s3:::bkt ${prefixOnly}`,
        'ReadRepository: s3:GetObject on arn:aws:s3:::bkt/laptop-repo/*',
        'WriteOwnSnapshots: s3:PutObject,s3:AbortMultipartUpload on arn:aws:s3:::bkt/laptop-repo/laptop/*,arn:aws:s3:::bkt/laptop-repo/.twinvault/snapshots/laptop/*',
        'TakeAndReleaseLocks: s3:PutObject,s3:DeleteObject on arn:aws:s3:::bkt/laptop-repo/.twinvault/locks/*',
      ],
    );
    expect(() => iamPolicy({ role: 'agent', repository: 's3://bkt/x' })).toThrow(/--host/);
  });

  it('replicator: reads the source, writes the replica, deletes there only when deletes are mirrored', () => {
    const keep = summary(
      iamPolicy({ role: 'replicator', repository: 's3://bkt/laptop-repo', replica: 's3://rep' }),
    );
    expect(keep).toEqual([
      `ListSource: s3:ListBucket on arn:aws:s3:::bkt ${prefixOnly}`,
      'ReadSource: s3:GetObject on arn:aws:s3:::bkt/laptop-repo/*',
      'ListReplica: s3:ListBucket on arn:aws:s3:::rep',
      'ReadReplica: s3:GetObject on arn:aws:s3:::rep/*',
      'WriteReplica: s3:PutObject,s3:AbortMultipartUpload on arn:aws:s3:::rep/*',
      'ReleaseReplicaLocks: s3:DeleteObject on arn:aws:s3:::rep/.twinvault/locks/*',
    ]);
    const mirror = summary(
      iamPolicy({
        role: 'replicator',
        repository: 's3://bkt/laptop-repo',
        replica: 's3://rep',
        deletes: true,
      }),
    );
    expect(mirror.at(-1)).toBe('MirrorDeletes: s3:DeleteObject on arn:aws:s3:::rep/*');
  });

  it('restore and admin may ask for archived objects; the agent and the replicator never do', () => {
    expect(
      summary(iamPolicy({ role: 'restore', repository: 's3://bkt/laptop-repo', replica: 's3://rep/r' })),
    ).toEqual([
      `ListRepository: s3:ListBucket on arn:aws:s3:::bkt ${prefixOnly}`,
      'ReadRepository: s3:GetObject on arn:aws:s3:::bkt/laptop-repo/*',
      'RetrieveArchivedRepository: s3:RestoreObject on arn:aws:s3:::bkt/laptop-repo/*',
      'ListReplica: s3:ListBucket on arn:aws:s3:::rep if {"StringLike":{"s3:prefix":["r/*"]}}',
      'ReadReplica: s3:GetObject on arn:aws:s3:::rep/r/*',
      'RetrieveArchivedReplica: s3:RestoreObject on arn:aws:s3:::rep/r/*',
    ]);
    const admin = iamPolicy({ role: 'admin', repository: 's3://bkt/laptop-repo' });
    expect(admin.Statement.find((s) => s.Sid === 'ManageRepository')?.Action).toContain('s3:RestoreObject');
    const agent = iamPolicy({ role: 'agent', repository: 's3://bkt/laptop-repo', host: 'laptop' });
    const replicator = iamPolicy({
      role: 'replicator',
      repository: 's3://bkt/laptop-repo',
      replica: 's3://rep',
    });
    for (const policy of [agent, replicator])
      expect(policy.Statement.flatMap((s) => s.Action)).not.toContain('s3:RestoreObject');
  });

  it('restore reads (and asks for archived copies), never writes; admin manages objects and lifecycle', () => {
    const restore = iamPolicy({ role: 'restore', repository: 's3://bkt/laptop-repo' });
    expect(restore.Statement.flatMap((s) => s.Action)).toEqual([
      's3:ListBucket',
      's3:GetObject',
      's3:RestoreObject',
    ]);
    const admin = iamPolicy({ role: 'admin', repository: 's3://bkt/laptop-repo' });
    expect(admin.Statement.flatMap((s) => s.Action)).toContain('s3:DeleteObject');
    expect(admin.Statement[0]!.Condition).toBeUndefined(); // HeadBucket carries no prefix
    const locked = iamPolicy({
      role: 'agent',
      repository: 's3://bkt/laptop-repo',
      host: 'laptop',
      objectLock: true,
    });
    expect(locked.Statement.at(-1)).toMatchObject({
      Action: ['s3:PutObjectRetention', 's3:GetObjectRetention'],
    });
    expect(() => iamPolicy({ role: 'restore', repository: 'file:///tmp/x' })).toThrow(
      /must be an s3:\/\/ URL/,
    );
  });
});
