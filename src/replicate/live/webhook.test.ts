import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog } from '../../../test/captured-log.js';
import { runCli } from '../../../test/cli.js';
import { ManualClock } from '../../clock.js';
import { UsageError } from '../../errors.js';
import { isLoopback, startWebhook, type WebhookOptions } from './webhook.js';

const TOKEN = 'a-token-of-sixteen+';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function start(
  handle: () => Promise<unknown>,
  options: { log?: WebhookOptions['log']; clock?: ManualClock; host?: string } = {},
) {
  const webhook = await startWebhook({
    host: options.host ?? '127.0.0.1',
    port: 0,
    token: TOKEN,
    handle,
    log: options.log ?? pino({ level: 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  close = webhook.close;
  const port = webhook.address.split(':').at(-1);
  return (body: string, method = 'POST', token = TOKEN) =>
    fetch(`http://127.0.0.1:${port}/`, {
      method,
      headers: { authorization: `Bearer ${token}` },
      ...(method === 'POST' ? { body } : {}),
    });
}

describe('the notification webhook', () => {
  it('answers 500 when the copies fail, so the sender sends again', async () => {
    const post = await start(async () => {
      throw new Error('replica unreachable');
    });
    const response = await post('{"Records":[]}');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'replica unreachable' });
  });

  it('refuses other methods, bodies that are not JSON, and oversized bodies', async () => {
    const post = await start(async () => ({}));
    expect((await post('', 'GET')).status).toBe(405);
    expect((await post('{not json')).status).toBe(400);
    expect((await post(`"${'x'.repeat(5 * 1024 * 1024)}"`)).status).toBe(413);
    expect((await post('{"Records":[]}')).status).toBe(200);
  });

  it('answers 400, not 500 "send again", to an event that can never be valid', async () => {
    let handled = 0;
    const post = await start(async () => {
      handled++;
      return {};
    });
    for (const body of ['[]', '"text"', '42', 'null', '{"foo":1}', '{"Records":"x"}', '{"Records":[1]}']) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { error: string }).error, body).toBeTruthy();
    }
    expect(handled).toBe(0);
    // Shapes that are notifications, even with nothing to copy, are accepted.
    for (const body of [
      '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}',
      '{"Type":"SubscriptionConfirmation","Message":"confirm"}',
      '{"source":"aws.s3","detail-type":"Object Restore Completed","detail":{}}',
      '{"Records":[{"eventSource":"aws:sqs"}]}',
    ])
      expect((await post(body)).status, body).toBe(200);
    // An event naming a key that no repository can hold is refused for good too.
    const invalidKey = await start(async () => {
      throw new UsageError('invalid object key "a//b": it contains an empty path segment ("//")');
    });
    expect((await invalidKey('{"Records":[]}')).status).toBe(400);
  });

  it('refuses a token shorter than 16 characters', async () => {
    for (const token of ['', 't', 'fifteen-chars!!']) {
      await expect(
        startWebhook({
          host: '127.0.0.1',
          port: 0,
          token,
          handle: async () => ({}),
          log: pino({ level: 'silent' }),
        }),
      ).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('at least 16') });
    }
  });

  it('warns when it listens beyond this machine without TLS, and not on loopback', async () => {
    const loopback = capturedLog();
    await start(async () => ({}), { log: loopback.log });
    expect(loopback.records().filter((r) => r.level === 40)).toEqual([]);
    await close?.();
    const everywhere = capturedLog();
    await start(async () => ({}), { log: everywhere.log, host: '0.0.0.0' });
    expect(everywhere.records()).toEqual([
      expect.objectContaining({ level: 40, msg: expect.stringContaining('without TLS') }),
    ]);
    for (const host of ['127.0.0.1', '127.8.9.1', 'localhost', '::1', '[::1]'])
      expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'replicator.internal'])
      expect(isLoopback(host), host).toBe(false);
  });

  it('writes at most 10 log lines a minute per caller, then says how many it held back', async () => {
    const clock = new ManualClock();
    const { log, records } = capturedLog();
    const post = await start(async () => ({}), { log, clock });
    for (let i = 0; i < 30; i++)
      expect((await post('{}', 'POST', 'wrong-token-wrong-token')).status).toBe(403);
    expect(records().filter((r) => r.msg === 'refused a notification without the right token')).toHaveLength(
      10,
    );
    clock.advance(61_000);
    expect((await post('not json')).status).toBe(400);
    const after = records().slice(10);
    expect(after).toEqual([
      expect.objectContaining({ from: expect.any(String), suppressed: 20 }),
      expect.objectContaining({ msg: expect.stringContaining('refused a body that is not a notification') }),
    ]);
    expect(after[0]!.msg).toBe('20 more log lines about this caller were suppressed');
  });

  it('says clearly when the port is taken', async () => {
    const first = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      handle: async () => ({}),
      log: pino({ level: 'silent' }),
    });
    close = first.close;
    const port = Number(first.address.split(':').at(-1));
    await expect(
      startWebhook({
        host: '127.0.0.1',
        port,
        token: TOKEN,
        handle: async () => ({}),
        log: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  });
});

describe('replicate --listen from the command line', () => {
  it('refuses a short token with a clear message before it listens', async () => {
    const home = await mkdtemp(join(tmpdir(), 'twinvault-webhook-cli-'));
    try {
      const result = await runCli(
        [
          '--repo',
          's3://source-bucket/repo',
          'replicate',
          '--to',
          's3://replica-bucket/repo',
          '--listen',
          '127.0.0.1:0',
        ],
        { cwd: home, home, env: { TWINVAULT_REPLICATE_TOKEN: 'short-token' } },
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('the webhook token is only 11 characters long; it needs at least 16');
      expect(result.stderr).toContain('openssl rand -hex 32');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
