import type { SNSClientConfig } from '@aws-sdk/client-sns';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ChannelConfig } from '../../config/notifications-schema.js';
import { NotificationError } from '../../errors.js';
import { renderNotice } from '../messages.js';
import { type Notice, severityOf } from '../notice.js';
import { readSecret } from '../secrets.js';
import type { Channel } from './channel.js';

type SnsConfig = Extract<ChannelConfig, { type: 'sns' }>;

/**
 * Publishes to an SNS topic (whose subscribers may be e-mail, SMS, chat, a queue). The subject is
 * the title; message attributes `event`, `state` and `severity` allow subscription filter policies.
 */
export function snsChannel(config: SnsConfig, env?: NodeJS.ProcessEnv): Channel {
  const where = `notification channel "${config.name}" (sns)`;
  // Loaded when the channel is set up, not at the first message: an upgrade of the installed files
  // under a running agent must not break its first alert. (Not at all without an SNS channel.)
  const sdk = import('@aws-sdk/client-sns');
  sdk.catch(() => {}); // a failure is the first send's to report
  return {
    name: config.name,
    type: 'sns',
    async send(notice) {
      // A client per message: notices are rare, and a rotated secret is read afresh.
      const { PublishCommand, SNSClient } = await sdk;
      const client = new SNSClient(await clientConfig(config, where, env));
      const message = renderNotice(notice);
      try {
        await client.send(
          new PublishCommand({
            TopicArn: config.topicArn,
            Subject: snsSubject(message.title),
            Message: message.text,
            MessageAttributes: {
              event: { DataType: 'String', StringValue: notice.event },
              state: { DataType: 'String', StringValue: notice.state },
              severity: { DataType: 'String', StringValue: severityOf(notice) },
            },
            ...(config.topicArn.endsWith('.fifo')
              ? { MessageGroupId: 'twinvault', MessageDeduplicationId: dedupId(notice) }
              : {}),
          }),
        );
      } catch (err) {
        const name = (err as Error).name;
        throw new NotificationError(
          `${where}: publishing to ${config.topicArn} failed: ${name}: ${(err as Error).message}`,
          {
            cause: err,
            retryable: !/AuthorizationError|NotFound|InvalidParameter|AccessDenied|InvalidClientTokenId/.test(
              name,
            ),
          },
        );
      } finally {
        client.destroy();
      }
    },
  };
}

async function clientConfig(
  config: SnsConfig,
  where: string,
  env?: NodeJS.ProcessEnv,
): Promise<SNSClientConfig> {
  const region = config.region ?? config.topicArn.split(':')[3]!;
  const settings: SNSClientConfig = {
    region,
    maxAttempts: 3,
    // Bounded like the HTTP channels: a black-holed endpoint must not hold the channel's queue for minutes.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 15_000 }),
  };
  if (config.endpoint) settings.endpoint = config.endpoint;
  if (config.accessKeyId && config.secretAccessKey) {
    settings.credentials = {
      accessKeyId: config.accessKeyId,
      secretAccessKey: await readSecret(config.secretAccessKey, `${where} secretAccessKey`, env),
    };
  } else if (config.profile) settings.credentials = defaultProvider({ profile: config.profile });
  return settings;
}

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
export function snsSubject(title: string): string {
  const ascii = title.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 99)}.`;
}

function dedupId(notice: Notice): string {
  return `${notice.event}-${notice.state}-${notice.subject.name}-${notice.at.getTime()}`
    .replace(/[^\w.-]/g, '_')
    .slice(0, 128);
}
