import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * Turns on the bucket's delivery of its events to EventBridge (what the replicator's "Object
 * Created" rule listens to), keeping every notification already configured. CloudFormation cannot
 * change a bucket it did not create, so `twinvault deploy` does this itself. Returns whether it
 * was off before.
 */
export async function enableEventBridge(client: S3Client, bucket: string): Promise<boolean> {
  const { $metadata: _metadata, ...current } = await client.send(
    new GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
  );
  if (current.EventBridgeConfiguration) return false;
  await client.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: { ...current, EventBridgeConfiguration: {} },
    }),
  );
  return true;
}
