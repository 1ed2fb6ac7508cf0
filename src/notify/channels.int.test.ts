import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLog } from '../../test/captured-log.js';
import { runCli } from '../../test/cli.js';
import { startReceiver } from '../../test/http-receiver.js';
import { s3Server } from '../../test/s3.js';
import { type SmtpSink, startSmtpSink } from '../../test/servers/smtp-sink.js';
import { systemClock } from '../clock.js';
import { notificationsSchema } from '../config/notifications-schema.js';
import type { Notice } from './notice.js';
import { Notifier } from './notifier.js';

const moto = s3Server('moto');

const notice: Notice = {
  event: 'storage-unreachable',
  state: 'problem',
  host: 'laptop',
  subject: { kind: 'repository', name: 'repository', location: 's3://ann-backups/tv' },
  since: new Date('2026-11-26T10:00:00Z'),
  at: new Date('2026-11-26T10:20:00Z'),
  error: 'cannot reach s3.eu-west-1.amazonaws.com: ENOTFOUND',
  next: 'check the network',
};

function quietNotifier(channels: unknown[], env?: NodeJS.ProcessEnv) {
  const { log, lines } = capturedLog();
  const notifier = new Notifier(notificationsSchema.parse({ channels }).channels, {
    log,
    clock: systemClock,
    retry: { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 10 },
    ...(env ? { env } : {}),
  });
  return { notifier, lines };
}

describe.skipIf(!moto)('SNS channel, against moto', () => {
  it('publishes the title as subject, the text as message, and filterable attributes', async () => {
    const aws = {
      endpoint: moto!.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: moto!.accessKeyId, secretAccessKey: moto!.secretAccessKey },
    };
    const sns = new SNSClient(aws);
    const sqs = new SQSClient(aws);
    const topic = await sns.send(new CreateTopicCommand({ Name: `alerts-${Date.now()}` }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: `alerts-${Date.now()}` }));
    const arn = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl!, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn!,
        Protocol: 'sqs',
        Endpoint: arn.Attributes!.QueueArn!,
      }),
    );

    const { notifier } = quietNotifier(
      [
        {
          type: 'sns',
          name: 'ops',
          topicArn: topic.TopicArn!,
          endpoint: moto!.endpoint,
          accessKeyId: moto!.accessKeyId,
          secretAccessKey: { env: 'SNS_SECRET' },
        },
      ],
      { SNS_SECRET: moto!.secretAccessKey },
    );
    notifier.notify(notice);
    await notifier.idle();

    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl!, WaitTimeSeconds: 2 }),
    );
    const envelope = JSON.parse(received.Messages![0]!.Body!) as {
      Subject: string;
      Message: string;
      MessageAttributes: Record<string, { Value: string }>;
    };
    expect(envelope.Subject).toBe('Storage unreachable from laptop for 20 min');
    expect(envelope.Message).toContain('Last error: cannot reach s3.eu-west-1.amazonaws.com: ENOTFOUND');
    expect(envelope.MessageAttributes.event?.Value).toBe('storage-unreachable');
    expect(envelope.MessageAttributes.severity?.Value).toBe('critical');
  });

  it('gives up on a topic that does not exist, with its ARN in the log', async () => {
    const { notifier, lines } = quietNotifier([
      {
        type: 'sns',
        name: 'ops',
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:no-such-topic',
        endpoint: moto!.endpoint,
        accessKeyId: moto!.accessKeyId,
        secretAccessKey: moto!.secretAccessKey,
      },
    ]);
    notifier.notify(notice);
    await notifier.idle();
    const gaveUp = lines.map((l) => JSON.parse(l)).find((l) => /given up/.test(l.msg));
    expect(gaveUp.err).toMatch(
      /notification channel "ops" \(sns\): publishing to arn:aws:sns:eu-west-1:123456789012:no-such-topic failed: NotFound/,
    );
  });
});

describe('e-mail channel, against a local SMTP server', () => {
  let sink: SmtpSink;
  let dir: string;
  beforeAll(async () => {
    sink = await startSmtpSink();
    dir = await mkdtemp(join(tmpdir(), 'twinvault-email-'));
  });
  afterAll(async () => {
    await sink?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const channel = () => ({
    type: 'email',
    name: 'mail',
    host: '127.0.0.1',
    port: sink.port,
    username: sink.username,
    password: { env: 'SMTP_PASSWORD' },
    from: 'twinvault@example.org',
    to: ['ann@example.org', 'ops@example.org'],
    caFile: sink.caFile,
  });

  it('sends over STARTTLS with a login: subject, text and an event header, never the password', async () => {
    const before = (await sink.messages()).length;
    const { notifier, lines } = quietNotifier([channel()], { SMTP_PASSWORD: sink.password });
    notifier.notify(notice);
    await notifier.idle();
    const mail = (await sink.waitForMessages(before + 1)).at(-1)!;
    expect(mail.from).toBe('twinvault@example.org');
    expect(mail.to).toEqual(['ann@example.org', 'ops@example.org']);
    expect(mail.raw).toMatch(/^Subject: \[twinvault\] Storage unreachable from laptop for 20 min\r?$/m);
    expect(mail.raw).toMatch(/^X-Twinvault-Event: storage-unreachable; state=problem\r?$/m);
    expect(mail.raw).toContain('What to do: check the network');
    expect(mail.raw).not.toContain(sink.password);
    expect(lines.join('\n')).not.toContain(sink.password);
  });

  it('gives up on a wrong password at once, saying so', async () => {
    const { notifier, lines } = quietNotifier([channel()], { SMTP_PASSWORD: 'wrong' });
    notifier.notify(notice);
    await notifier.idle();
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.filter((l) => /trying again/.test(l.msg))).toEqual([]);
    expect(logged.find((l) => /given up/.test(l.msg)).err).toMatch(
      /Invalid login.*check the username and password/,
    );
  });

  it('sends nothing, and no password, to a server that does not offer STARTTLS', async () => {
    const commands: string[] = [];
    const plain: Server = createServer((socket) => {
      socket.write('220 plain.example ESMTP\r\n');
      socket.on('data', (data) => {
        for (const line of String(data).split('\r\n').filter(Boolean)) {
          commands.push(line);
          if (/^EHLO/i.test(line)) socket.write('250-plain.example\r\n250 AUTH PLAIN LOGIN\r\n');
          else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
          else if (/^STARTTLS/i.test(line)) socket.write('502 5.5.1 command not implemented\r\n');
          else socket.write('250 ok\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const port = (plain.address() as { port: number }).port;
      const { notifier, lines } = quietNotifier([{ ...channel(), port, caFile: undefined }], {
        SMTP_PASSWORD: 'never-sent-in-clear',
      });
      notifier.notify(notice);
      await notifier.idle();
      expect(commands.some((c) => /^AUTH|^MAIL/i.test(c))).toBe(false);
      expect(lines.join('\n')).toMatch(/STARTTLS/);
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it('`twinvault notify test` sends through every channel and reports each', async () => {
    const receiver = await startReceiver((r) => (r.path === '/broken' ? 500 : 200));
    try {
      const home = join(dir, 'home');
      const configFile = join(dir, 'twinvault.json');
      await writeFile(
        configFile,
        JSON.stringify({
          host: 'laptop',
          notifications: {
            channels: [
              channel(),
              { type: 'slack', name: 'chat', url: `${receiver.url}/services/T/B/secret` },
              { type: 'webhook', name: 'broken', url: `${receiver.url}/broken` },
            ],
          },
        }),
      );
      const env = { SMTP_PASSWORD: sink.password };
      const before = (await sink.messages()).length;
      const all = await runCli(['--config', configFile, 'notify', 'test'], { cwd: dir, home, env });
      expect(all.code).toBe(1);
      expect(all.stdout).toContain('sent     mail (email)');
      expect(all.stdout).toContain('sent     chat (slack)');
      expect(all.stdout).toMatch(/FAILED {3}broken \(webhook\): .*answered HTTP 500/);
      expect(all.stdout).not.toContain('/services/T/B/secret');
      const mail = (await sink.waitForMessages(before + 1)).at(-1)!;
      expect(mail.raw).toContain('This is a test of the channel "mail"');

      const one = await runCli(['--config', configFile, 'notify', 'test', 'chat', '--json'], {
        cwd: dir,
        home,
        env,
      });
      expect(one.code).toBe(0);
      expect(JSON.parse(one.stdout)).toEqual({ results: [{ channel: 'chat', type: 'slack', ok: true }] });

      const unknown = await runCli(['--config', configFile, 'notify', 'test', 'pager'], {
        cwd: dir,
        home,
        env,
      });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain(
        'no notification channel is named "pager" (configured: mail, chat, broken)',
      );
    } finally {
      await receiver.stop();
    }
  });
});
