import { describe, expect, it } from 'vitest';
import { iamPolicy } from './iam-policy.js';
import { LAMBDA_RUNTIME, replicatorTemplate } from './replicator-template.js';

type Statement = { Action: string[] } | { 'Fn::If': [string, { Action: string[] }, unknown] };

describe('the replicator template', () => {
  const template = replicatorTemplate() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const role = template.Resources.Role!.Properties as {
    Policies: Array<{ PolicyDocument: { Statement: Statement[] } }>;
  };
  const statements = role.Policies[0]!.PolicyDocument.Statement;

  it("gives the function's role exactly the S3 actions of the replicator policy, delete only when deletes are mirrored", () => {
    const unconditional = statements
      .flatMap((s) => ('Action' in s ? s.Action : []))
      .filter((a) => a.startsWith('s3:'));
    const conditional = statements.flatMap((s) => ('Fn::If' in s ? [s['Fn::If']] : []));
    const replicator = (deletes: boolean) =>
      iamPolicy({
        role: 'replicator',
        repository: 's3://src-bkt/p',
        replica: 's3://dst-bkt/p',
        deletes,
      }).Statement.flatMap((s) => s.Action);
    // Kept deletes: the role may delete only locks, as the policy's ReleaseReplicaLocks says.
    const withoutDelete = (deletes: boolean) => replicator(deletes).filter((a) => a !== 's3:DeleteObject');
    expect(unconditional.sort()).toEqual(withoutDelete(false).sort());
    expect(withoutDelete(true).sort()).toEqual(withoutDelete(false).sort());
    expect(conditional).toHaveLength(1);
    const [condition, mirrored, kept] = conditional[0]! as [
      string,
      { Action: string[]; Resource: unknown },
      { Action: string[]; Resource: unknown },
    ];
    expect(condition).toBe('MirrorsDeletes');
    expect([mirrored.Action, kept.Action]).toEqual([['s3:DeleteObject'], ['s3:DeleteObject']]);
    expect(JSON.stringify(kept.Resource)).toContain('.twinvault/locks/*');
  });

  it('runs the bundle on a current Node.js runtime, with a dead-letter queue and alarms', () => {
    const fn = template.Resources.Function!.Properties;
    expect(fn).toMatchObject({ Runtime: LAMBDA_RUNTIME, Handler: 'replicate.handler', Timeout: 900 });
    expect(LAMBDA_RUNTIME).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::CloudWatch::Alarm')).toHaveLength(2);
    expect(types).toContain('AWS::SQS::Queue');
  });
});
