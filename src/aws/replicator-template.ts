/**
 * The CloudFormation template of the serverless replicator (`twinvault deploy --print`): the
 * Lambda function and its log group, EventBridge rules for the source bucket's "Object Created"
 * events and for the schedule, a dead-letter queue, alarms on errors, on the queue's depth and on
 * replication lag (an EMF metric the function writes to its log, src/lambda/emf-metrics.ts) that
 * notify an SNS topic (with an optional e-mail subscription), and a least-privilege role.
 * S3 permissions are those of `twinvault iam-policy replicator` (src/aws/iam-policy.ts); the
 * metrics need none beyond writing the log.
 */

import { EMF_LAG_METRIC, EMF_NAMESPACE, EMF_REPLICA_DIMENSION } from '../lambda/emf-names.js';

/** The Lambda runtime the bundle runs on (it targets Node 20 and newer). */
export const LAMBDA_RUNTIME = 'nodejs22.x';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const sub = (text: string): Json => ({ 'Fn::Sub': text });
/** The function's name, also in its log group's: `<stack name>-replicator`. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
const FUNCTION_NAME = '${AWS::StackName}-replicator';
const ref = (name: string): Json => ({ Ref: name });
const arn = (resource: string, attribute = 'Arn'): Json => ({ 'Fn::GetAtt': [resource, attribute] });
/** "prefix/" when the prefix parameter is set, else "" (keys then start at the bucket's root). */
const rootOf = (parameter: string, condition: string): Json => ({
  'Fn::If': [condition, sub(`\${${parameter}}/`), ''],
});

/** The ARN of keys under a bucket parameter and an optional prefix parameter. */
function keysUnder(bucket: string, prefix: string, condition: string, pattern: string): Json {
  return { 'Fn::Join': ['', ['arn:aws:s3:::', ref(bucket), '/', rootOf(prefix, condition), pattern]] };
}

export function replicatorTemplate(): Record<string, Json> {
  // The Replica dimension of the function's metrics, `s3://bucket[/prefix]`: given to the function
  // (METRICS_REPLICA) and to the lag alarm alike, so the alarm watches what the function writes.
  const replicaName: Json = {
    'Fn::Join': [
      '',
      [
        's3://',
        ref('DestinationBucket'),
        { 'Fn::If': ['HasDestinationPrefix', sub(`/\${DestinationPrefix}`), ''] },
      ],
    ],
  };
  const sourceObjects = keysUnder('SourceBucket', 'SourcePrefix', 'HasSourcePrefix', '*');
  const replicaObjects = keysUnder('DestinationBucket', 'DestinationPrefix', 'HasDestinationPrefix', '*');
  const replicaLocks = keysUnder(
    'DestinationBucket',
    'DestinationPrefix',
    'HasDestinationPrefix',
    '.twinvault/locks/*',
  );
  const listing = (bucket: string, prefix: string, condition: string): Json => ({
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    Resource: sub(`arn:aws:s3:::\${${bucket}}`),
    Condition: {
      'Fn::If': [
        condition,
        { StringLike: { 's3:prefix': [sub(`\${${prefix}}/*`)] } },
        { Ref: 'AWS::NoValue' },
      ],
    },
  });
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'twinvault replicator: copies a twinvault repository to a replica bucket, live and hourly',
    Parameters: {
      SourceBucket: { Type: 'String', Description: 'Bucket of the repository' },
      SourcePrefix: {
        Type: 'String',
        Default: '',
        Description: 'Key prefix of the repository ("" for the whole bucket)',
      },
      DestinationBucket: { Type: 'String', Description: 'Bucket of the replica' },
      DestinationPrefix: { Type: 'String', Default: '', Description: 'Key prefix of the replica' },
      DeletePolicy: {
        Type: 'String',
        Default: 'keep',
        AllowedValues: ['keep', 'mirror', 'delay'],
        Description: 'What deletions in the repository do in the replica',
      },
      DeleteAfter: {
        Type: 'String',
        Default: '30d',
        Description: 'With DeletePolicy delay: how long an object must be gone',
      },
      Schedule: { Type: 'String', Default: 'cron(0 * * * ? *)', Description: 'Full reconciling passes' },
      AlarmEmail: { Type: 'String', Default: '', Description: 'E-mail notified by the alarms ("" for none)' },
      LagAlarmSeconds: {
        Type: 'Number',
        Default: 3600,
        MinValue: 60,
        Description: 'Alarm when a new object took longer than this (seconds) to reach the replica',
      },
      LogRetentionDays: {
        Type: 'Number',
        Default: 30,
        AllowedValues: [
          1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
          3653,
        ],
      },
      MemorySize: { Type: 'Number', Default: 512, MinValue: 128, MaxValue: 10240 },
      MaxConcurrency: {
        Type: 'Number',
        Default: 10,
        MinValue: 1,
        Description: 'Most copies running at once: a first backup of many files must not use up the account',
      },
      CodeBucket: {
        Type: 'String',
        Description: 'Bucket holding the function code (twinvault deploy uploads it)',
      },
      CodeKey: { Type: 'String', Description: 'Key of the function code zip' },
    },
    Conditions: {
      HasSourcePrefix: { 'Fn::Not': [{ 'Fn::Equals': [ref('SourcePrefix'), ''] }] },
      HasDestinationPrefix: { 'Fn::Not': [{ 'Fn::Equals': [ref('DestinationPrefix'), ''] }] },
      MirrorsDeletes: { 'Fn::Not': [{ 'Fn::Equals': [ref('DeletePolicy'), 'keep'] }] },
      HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': [ref('AlarmEmail'), ''] }] },
    },
    Resources: {
      LogGroup: {
        Type: 'AWS::Logs::LogGroup',
        Properties: {
          LogGroupName: sub(`/aws/lambda/${FUNCTION_NAME}`),
          RetentionInDays: ref('LogRetentionDays'),
        },
      },
      DeadLetterQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true },
      },
      DeadLetterQueuePolicy: {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: {
          Queues: [ref('DeadLetterQueue')],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'EventBridgeDeadLetters',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: arn('DeadLetterQueue'),
                Condition: {
                  ArnEquals: { 'aws:SourceArn': [arn('ObjectCreatedRule'), arn('ScheduleRule')] },
                },
              },
            ],
          },
        },
      },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
          Policies: [
            {
              PolicyName: 'replicate',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  listing('SourceBucket', 'SourcePrefix', 'HasSourcePrefix'),
                  { Effect: 'Allow', Action: ['s3:GetObject'], Resource: sourceObjects },
                  listing('DestinationBucket', 'DestinationPrefix', 'HasDestinationPrefix'),
                  {
                    Effect: 'Allow',
                    Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
                    Resource: replicaObjects,
                  },
                  {
                    // Deletes mirrored: anything in the replica; kept: only the lock each pass takes.
                    'Fn::If': [
                      'MirrorsDeletes',
                      { Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: replicaObjects },
                      { Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: replicaLocks },
                    ],
                  },
                  {
                    Effect: 'Allow',
                    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                    Resource: arn('LogGroup'),
                  },
                  { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: arn('DeadLetterQueue') },
                ],
              },
            },
          ],
        },
      },
      Function: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['LogGroup'],
        Properties: {
          FunctionName: sub(FUNCTION_NAME),
          Runtime: LAMBDA_RUNTIME,
          Handler: 'replicate.handler',
          Code: { S3Bucket: ref('CodeBucket'), S3Key: ref('CodeKey') },
          Role: arn('Role'),
          Timeout: 900,
          MemorySize: ref('MemorySize'),
          ReservedConcurrentExecutions: ref('MaxConcurrency'),
          DeadLetterConfig: { TargetArn: arn('DeadLetterQueue') },
          Environment: {
            Variables: {
              SOURCE_BUCKET: ref('SourceBucket'),
              SOURCE_PREFIX: ref('SourcePrefix'),
              DESTINATION_BUCKET: ref('DestinationBucket'),
              DESTINATION_PREFIX: ref('DestinationPrefix'),
              DELETE_POLICY: ref('DeletePolicy'),
              DELETE_AFTER: ref('DeleteAfter'),
              METRICS_REPLICA: replicaName,
            },
          },
        },
      },
      ObjectCreatedRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: 'Objects created in the repository',
          EventPattern: {
            source: ['aws.s3'],
            'detail-type': ['Object Created'],
            detail: {
              bucket: { name: [ref('SourceBucket')] },
              object: { key: [{ prefix: rootOf('SourcePrefix', 'HasSourcePrefix') }] },
            },
          },
          Targets: [
            {
              Id: 'replicator',
              Arn: arn('Function'),
              RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
              DeadLetterConfig: { Arn: arn('DeadLetterQueue') },
            },
          ],
        },
      },
      ScheduleRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: 'Full reconciling passes',
          ScheduleExpression: ref('Schedule'),
          Targets: [
            { Id: 'replicator', Arn: arn('Function'), DeadLetterConfig: { Arn: arn('DeadLetterQueue') } },
          ],
        },
      },
      ObjectCreatedPermission: {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          FunctionName: ref('Function'),
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: arn('ObjectCreatedRule'),
        },
      },
      SchedulePermission: {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          FunctionName: ref('Function'),
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: arn('ScheduleRule'),
        },
      },
      AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'twinvault replicator alarms' } },
      AlarmSubscription: {
        Type: 'AWS::SNS::Subscription',
        Condition: 'HasAlarmEmail',
        Properties: { TopicArn: ref('AlarmTopic'), Protocol: 'email', Endpoint: ref('AlarmEmail') },
      },
      ErrorsAlarm: alarm('The replicator failed', 'AWS/Lambda', 'Errors', 'Sum', {
        Name: 'FunctionName',
        Value: ref('Function'),
      }),
      DeadLetterAlarm: alarm(
        'Events the replicator could not handle wait in the dead-letter queue',
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'Maximum',
        { Name: 'QueueName', Value: arn('DeadLetterQueue', 'QueueName') },
      ),
      LagAlarm: alarm(
        'New objects take longer than LagAlarmSeconds to reach the replica (or keep failing to)',
        EMF_NAMESPACE,
        EMF_LAG_METRIC,
        'Maximum',
        { Name: EMF_REPLICA_DIMENSION, Value: replicaName },
        { threshold: ref('LagAlarmSeconds'), comparison: 'GreaterThanThreshold' },
      ),
    },
    Outputs: {
      FunctionArn: { Value: arn('Function') },
      DeadLetterQueueUrl: { Value: ref('DeadLetterQueue') },
      AlarmTopicArn: { Value: ref('AlarmTopic') },
    },
  };
}

/**
 * An alarm that notifies the topic when the metric reaches 1 (or passes `threshold`) in five
 * minutes, and when it clears. No data (no invocations) is no alarm.
 */
function alarm(
  description: string,
  namespace: string,
  metric: string,
  statistic: string,
  dimension: Json,
  {
    threshold = 1,
    comparison = 'GreaterThanOrEqualToThreshold',
  }: { threshold?: Json; comparison?: string } = {},
): Json {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: description,
      Namespace: namespace,
      MetricName: metric,
      Dimensions: [dimension],
      Statistic: statistic,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: threshold,
      ComparisonOperator: comparison,
      TreatMissingData: 'notBreaching',
      AlarmActions: [ref('AlarmTopic')],
      OKActions: [ref('AlarmTopic')],
    },
  };
}
