import { describe, expect, it } from 'vitest';
import { lambdaSettings } from './lambda-config.js';

const base = { SOURCE_BUCKET: 'src', SOURCE_PREFIX: 'laptop', DESTINATION_BUCKET: 'dst' };

describe('the replicator Lambda settings', () => {
  it('names its metrics: namespace "twinvault", and the replica as the destination URL', () => {
    expect(lambdaSettings(base).metrics).toEqual({ namespace: 'twinvault', replica: 's3://dst/laptop' });
    expect(lambdaSettings({ ...base, DESTINATION_PREFIX: '' }).metrics.replica).toBe('s3://dst');
  });

  it('takes both from the environment when set there (the template sets METRICS_REPLICA)', () => {
    const env = { ...base, METRICS_NAMESPACE: 'backups/prod', METRICS_REPLICA: 's3://dst/laptop/' };
    expect(lambdaSettings(env).metrics).toEqual({ namespace: 'backups/prod', replica: 's3://dst/laptop/' });
  });
});
