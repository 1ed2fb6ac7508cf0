import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { type ParsedEvents, parseNotification } from './s3-events.js';

export interface QueueOptions {
  queueUrl: string;
  client: SQSClient;
  handle: (parsed: ParsedEvents) => Promise<unknown>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  clock: Clock;
  signal: AbortSignal;
  /** Long-poll wait (default 20 s, SQS's longest). */
  waitSeconds?: number;
}

/**
 * Consumes S3 event notifications from an SQS queue until `signal` aborts. A message is deleted
 * only after every object it names is durable in every replica; a message that fails stays, and
 * SQS delivers it again after its visibility timeout (or moves it to a dead-letter queue).
 */
export async function consumeQueue(options: QueueOptions): Promise<void> {
  const { client, queueUrl, signal } = options;
  let failures = 0;
  while (!signal.aborted) {
    let messages: Message[];
    try {
      const received = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: options.waitSeconds ?? 20,
        }),
        { abortSignal: signal },
      );
      messages = received.Messages ?? [];
      failures = 0;
    } catch (err) {
      if (signal.aborted) break;
      failures++;
      const waitMs = Math.min(60_000, 1000 * 2 ** Math.min(failures, 6));
      options.log.error(
        { queue: queueUrl, err: (err as Error).message, retryInMs: waitMs },
        'cannot receive from the queue',
      );
      await options.clock.sleep(waitMs, signal).catch(() => {});
      continue;
    }
    await Promise.all(messages.map((message) => settle(message, options)));
  }
}

async function settle(message: Message, options: QueueOptions): Promise<void> {
  const id = message.MessageId;
  let parsed: ParsedEvents;
  try {
    parsed = parseNotification(JSON.parse(message.Body ?? ''));
  } catch {
    // Not JSON: no delivery will ever make it one.
    options.log.warn({ messageId: id }, 'deleted a queue message that is not a JSON notification');
    await remove(message, options);
    return;
  }
  try {
    await options.handle(parsed);
  } catch (err) {
    options.log.error(
      { messageId: id, err: (err as Error).message },
      'left a message on the queue to be retried',
    );
    return;
  }
  await remove(message, options);
}

async function remove(message: Message, options: QueueOptions): Promise<void> {
  try {
    await options.client.send(
      new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  } catch (err) {
    // It comes back after its visibility timeout; copying again is harmless.
    options.log.warn(
      { messageId: message.MessageId, err: (err as Error).message },
      'could not delete a handled message',
    );
  }
}
