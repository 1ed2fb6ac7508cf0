import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhook } from './webhook.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function start(handle: () => Promise<unknown>) {
  const webhook = await startWebhook({
    host: '127.0.0.1',
    port: 0,
    token: 'secret',
    handle,
    log: pino({ level: 'silent' }),
  });
  close = webhook.close;
  return (body: string, method = 'POST') =>
    fetch(`http://${webhook.address}/`, {
      method,
      headers: { authorization: 'Bearer secret' },
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

  it('says clearly when the port is taken', async () => {
    const first = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      token: 't',
      handle: async () => ({}),
      log: pino({ level: 'silent' }),
    });
    close = first.close;
    const port = Number(first.address.split(':').at(-1));
    await expect(
      startWebhook({
        host: '127.0.0.1',
        port,
        token: 't',
        handle: async () => ({}),
        log: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  });
});
