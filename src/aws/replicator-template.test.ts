import { describe, expect, it } from 'vitest';
import { EMF_LAG_METRIC, EMF_NAMESPACE, EMF_REPLICA_DIMENSION } from '../lambda/emf-names.js';
import { iamPolicy } from './iam-policy.js';
import { LAMBDA_RUNTIME, replicatorTemplate } from './replicator-template.js';

type Statement = { Action: string[] } | { 'Fn::If': [string, { Action: string[] }, unknown] };

describe('the replicator template', () => {
  const template = replicatorTemplate() as {
    Parameters: Record<string, Record<string, unknown>>;
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
    expect(types.filter((t) => t === 'AWS::CloudWatch::Alarm')).toHaveLength(3);
    expect(types).toContain('AWS::SQS::Queue');
  });

  it("alarms on the replication lag the function writes as an EMF metric, to the other alarms' topic", () => {
    const lag = template.Resources.LagAlarm!.Properties;
    expect(lag).toMatchObject({
      Namespace: EMF_NAMESPACE,
      MetricName: EMF_LAG_METRIC,
      Statistic: 'Maximum',
      Period: 300,
      Threshold: { Ref: 'LagAlarmSeconds' },
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: template.Resources.ErrorsAlarm!.Properties.AlarmActions,
      OKActions: template.Resources.ErrorsAlarm!.Properties.OKActions,
    });
    expect(template.Parameters.LagAlarmSeconds).toMatchObject({ Type: 'Number', Default: 3600 });
    // The dimension's value is what the function is told to write, so the two cannot drift apart.
    const [dimension, ...others] = lag.Dimensions as Array<{ Name: string; Value: unknown }>;
    expect(others).toEqual([]);
    expect(dimension!.Name).toBe(EMF_REPLICA_DIMENSION);
    const env = (
      template.Resources.Function!.Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(env.METRICS_REPLICA).toEqual(dimension!.Value);
    // EMF lines go out with the function's log: no cloudwatch:PutMetricData, nothing else new.
    const actions = statements.flatMap((s) => ('Action' in s ? s.Action : []));
    expect(actions.filter((a) => !a.startsWith('s3:')).sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:SendMessage',
    ]);
  });
});
