import { parseRepositoryUrl } from '../config/repository-url.js';
import { UsageError } from '../errors.js';
import { LOCKS_PREFIX, SNAPSHOTS_PREFIX } from '../repository/layout.js';

/**
 * Least-privilege IAM policies for the roles twinvault runs as. Each names exactly the S3 actions
 * the role's commands make, on exactly the keys they touch (docs/AWS.md explains each).
 */
export const ROLES = ['agent', 'replicator', 'restore', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface PolicyRequest {
  role: Role;
  /** The repository: s3://bucket/prefix. */
  repository: string;
  /** replicator: the replica written to; restore: a replica it may also read. */
  replica?: string;
  /** agent: the host whose snapshots it writes. */
  host?: string;
  /** replicator: whether the replica mirrors deletions (mirror or delay). */
  deletes?: boolean;
  /** The repository (and replica) use Object Lock: writers set retention, and read it back. */
  objectLock?: boolean;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

interface Place {
  bucket: string;
  /** "" or "prefix/". */
  root: string;
}

export function iamPolicy(request: PolicyRequest): PolicyDocument {
  const repo = placeOf(request.repository, 'the repository');
  switch (request.role) {
    case 'agent': {
      if (!request.host) throw new UsageError('the agent policy is for one host: give --host NAME');
      return document([
        listing('ListRepository', repo),
        allow('ReadRepository', ['s3:GetObject'], [objects(repo, '*')]),
        allow(
          'WriteOwnSnapshots',
          ['s3:PutObject', 's3:AbortMultipartUpload'],
          [objects(repo, `${request.host}/*`), objects(repo, `${SNAPSHOTS_PREFIX}${request.host}/*`)],
        ),
        allow(
          'TakeAndReleaseLocks',
          ['s3:PutObject', 's3:DeleteObject'],
          [objects(repo, `${LOCKS_PREFIX}*`)],
        ),
        ...retention(request, [objects(repo, '*')]),
      ]);
    }
    case 'replicator': {
      if (!request.replica)
        throw new UsageError('the replicator policy needs the replica: give --replica URL');
      const replica = placeOf(request.replica, '--replica');
      const write = ['s3:PutObject', 's3:AbortMultipartUpload'];
      return document([
        listing('ListSource', repo),
        allow('ReadSource', ['s3:GetObject'], [objects(repo, '*')]),
        listing('ListReplica', replica),
        allow('ReadReplica', ['s3:GetObject'], [objects(replica, '*')]),
        allow('WriteReplica', write, [objects(replica, '*')]),
        // With "keep", the replica's copies can never be deleted through this role: only the lock
        // each pass takes there.
        ...(request.deletes
          ? [allow('MirrorDeletes', ['s3:DeleteObject'], [objects(replica, '*')])]
          : [allow('ReleaseReplicaLocks', ['s3:DeleteObject'], [objects(replica, `${LOCKS_PREFIX}*`)])]),
        ...retention(request, [objects(replica, '*')]),
      ]);
    }
    case 'restore': {
      const places = [repo, ...(request.replica ? [placeOf(request.replica, '--replica')] : [])];
      return document(
        places.flatMap((place, index) => [
          listing(`List${index === 0 ? 'Repository' : 'Replica'}`, place),
          allow(`Read${index === 0 ? 'Repository' : 'Replica'}`, ['s3:GetObject'], [objects(place, '*')]),
          // restore --request-archived: a readable copy of archived content (Glacier, Deep Archive).
          allow(
            `RetrieveArchived${index === 0 ? 'Repository' : 'Replica'}`,
            ['s3:RestoreObject'],
            [objects(place, '*')],
          ),
        ]),
      );
    }
    case 'admin':
      return document([
        // Unconditioned: init and `config check --connect` ask HeadBucket, which carries no prefix.
        allow('ListRepository', ['s3:ListBucket'], [bucketArn(repo)]),
        allow(
          'ManageRepository',
          [
            's3:GetObject',
            's3:PutObject',
            's3:DeleteObject',
            's3:AbortMultipartUpload',
            // verify --read-data / restore --request-archived
            's3:RestoreObject',
          ],
          [objects(repo, '*')],
        ),
        allow(
          'ManageBucket',
          ['s3:GetLifecycleConfiguration', 's3:PutLifecycleConfiguration', 's3:GetBucketVersioning'],
          [bucketArn(repo)],
        ),
        ...retention(request, [objects(repo, '*')]),
      ]);
  }
}

/** With Object Lock: writing an object with retention, and reading it back (forget, prune). */
function retention(request: PolicyRequest, resources: string[]): PolicyStatement[] {
  if (!request.objectLock) return [];
  return [allow('ObjectLockRetention', ['s3:PutObjectRetention', 's3:GetObjectRetention'], resources)];
}

function document(statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

function allow(sid: string, actions: string[], resources: string[]): PolicyStatement {
  return { Sid: sid, Effect: 'Allow', Action: actions, Resource: resources };
}

/** ListBucket (listings, HeadBucket) limited to the repository's prefix. */
function listing(sid: string, place: Place): PolicyStatement {
  const statement = allow(sid, ['s3:ListBucket'], [bucketArn(place)]);
  if (place.root !== '') statement.Condition = { StringLike: { 's3:prefix': [`${place.root}*`] } };
  return statement;
}

function bucketArn(place: Place): string {
  return `arn:aws:s3:::${place.bucket}`;
}

function objects(place: Place, pattern: string): string {
  return `arn:aws:s3:::${place.bucket}/${place.root}${pattern}`;
}

function placeOf(url: string, what: string): Place {
  const location = parseRepositoryUrl(url, what);
  if (location.kind !== 's3')
    throw new UsageError(`${what} must be an s3:// URL for an IAM policy, not ${url}`);
  return { bucket: location.bucket, root: location.prefix === '' ? '' : `${location.prefix}/` };
}
