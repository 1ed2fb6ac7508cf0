import { describe, expect, it } from 'vitest';
import { mapS3Error } from './errors.js';
import { quirksFor } from './providers.js';

const context = {
  operation: 'PutObject',
  bucket: 'backups',
  location: 's3://backups/repo',
  endpoint: 'http://127.0.0.1:9000',
  credentialSource: 'environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (…WXYZ)',
};
const sdkError = (name: string, status?: number, extra: object = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra });

describe('mapping S3 errors', () => {
  it('tells a missing key from a missing bucket', () => {
    expect(mapS3Error(sdkError('NoSuchKey', 404), { ...context, key: 'a/b' })).toMatchObject({
      code: 'NOT_FOUND',
      message: 'no object "a/b" in s3://backups/repo',
    });
    expect(mapS3Error(sdkError('NotFound', 404), { ...context, key: 'a/b' })).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(mapS3Error(sdkError('NotFound', 404), context)).toMatchObject({ code: 'BUCKET_NOT_FOUND' });
    expect(mapS3Error(sdkError('NoSuchBucket', 404), { ...context, key: 'a/b' })).toMatchObject({
      code: 'BUCKET_NOT_FOUND',
      hint: expect.stringContaining('aws s3 mb s3://backups'),
    });
  });

  it('names a read or copy of an archived object as such, with how to get it back', () => {
    for (const name of ['InvalidObjectState', 'ObjectNotInActiveTierError']) {
      const error = mapS3Error(sdkError(name, 403), {
        ...context,
        operation: 'GetObject',
        key: 'laptop/s/a',
      });
      expect(error).toMatchObject({
        code: 'ARCHIVED',
        name: 'ArchivedError',
        message:
          'object "laptop/s/a" in s3://backups/repo is archived and cannot be read until S3 has restored a copy of it',
        isRetryable: false,
      });
      expect(error.hint).toContain('--request-archived');
    }
  });

  it('names bucket, operation and credential source on access denied', () => {
    const error = mapS3Error(sdkError('InvalidAccessKeyId', 403), { ...context, key: 'k' });
    expect(error.code).toBe('ACCESS_DENIED');
    expect(error.message).toBe(
      'access denied to bucket "backups" at http://127.0.0.1:9000 (PutObject "k") using credentials from environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (…WXYZ): the access key id is not known to the store',
    );
  });

  it('classifies network failures as unreachable and retryable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(mapS3Error(refused, context)).toMatchObject({ code: 'STORAGE_UNREACHABLE', isRetryable: true });
    const nested = Object.assign(new Error('fetch failed'), {
      cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }),
    });
    expect(mapS3Error(nested, context).message).toContain('host name not found');
    expect(mapS3Error(sdkError('TimeoutError'), context).message).toContain(
      'no answer within the request timeout',
    );
  });

  it('maps a failed precondition to "already exists" and throttling to retryable', () => {
    expect(mapS3Error(sdkError('PreconditionFailed', 412), { ...context, key: 'k' })).toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    expect(mapS3Error(sdkError('SlowDown', 503), context)).toMatchObject({
      code: 'STORAGE_FAILED',
      isRetryable: true,
    });
    expect(mapS3Error(sdkError('InvalidArgument', 400), context)).toMatchObject({ isRetryable: false });
  });

  it('turns missing credentials or region into configuration errors', () => {
    expect(mapS3Error(sdkError('CredentialsProviderError'), context)).toMatchObject({
      code: 'CONFIG_INVALID',
    });
    expect(mapS3Error(new Error('Region is missing'), context)).toMatchObject({
      code: 'CONFIG_INVALID',
      hint: expect.stringContaining('AWS_REGION'),
    });
  });
});

describe('provider quirks', () => {
  it('picks settings by endpoint host, with AWS when there is no endpoint', () => {
    expect(quirksFor(undefined)).toMatchObject({ name: 'AWS S3', pathStyle: false });
    expect(quirksFor('https://s3.eu-central-003.backblazeb2.com')).toMatchObject({ uploadChecksum: 'md5' });
    expect(quirksFor('http://127.0.0.1:9000')).toMatchObject({ name: 'S3-compatible', pathStyle: true });
  });
});
