import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { enableEventBridge } from './bucket-events.js';

function fakeS3(current: Record<string, unknown>) {
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      if (command instanceof GetBucketNotificationConfigurationCommand) return { $metadata: {}, ...current };
      return { $metadata: {} };
    },
  } as unknown as S3Client;
  return { client, sent };
}

describe('enableEventBridge', () => {
  it('adds EventBridge delivery and keeps the notifications already there', async () => {
    const queue = { QueueArn: 'arn:aws:sqs:eu-west-1:1:q', Events: ['s3:ObjectCreated:*'] };
    const { client, sent } = fakeS3({ QueueConfigurations: [queue] });
    expect(await enableEventBridge(client, 'backups')).toBe(true);
    const put = sent[1] as PutBucketNotificationConfigurationCommand;
    expect(put).toBeInstanceOf(PutBucketNotificationConfigurationCommand);
    expect(put.input).toEqual({
      Bucket: 'backups',
      NotificationConfiguration: { QueueConfigurations: [queue], EventBridgeConfiguration: {} },
    });
  });

  it('changes nothing when it is on already', async () => {
    const { client, sent } = fakeS3({ EventBridgeConfiguration: {} });
    expect(await enableEventBridge(client, 'backups')).toBe(false);
    expect(sent).toHaveLength(1);
  });
});
