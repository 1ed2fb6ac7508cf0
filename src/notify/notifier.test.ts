import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog } from '../../test/captured-log.js';
import { type ReceivedRequest, startReceiver } from '../../test/http-receiver.js';
import { ManualClock } from '../clock.js';
import { type ChannelConfig, notificationsSchema } from '../config/notifications-schema.js';
import { signature } from './channels/webhook.js';
import type { Notice } from './notice.js';
import { Notifier } from './notifier.js';

const FAST_RETRY = { retries: 3, minTimeoutMs: 10, maxTimeoutMs: 20 };
const clock = new ManualClock('2026-11-26T12:00:00Z');
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function receiver(respond?: (r: ReceivedRequest) => number | 'hang') {
  const server = await startReceiver(respond);
  stops.push(server.stop);
  return server;
}

function channels(list: unknown[]): ChannelConfig[] {
  return notificationsSchema.parse({ channels: list }).channels;
}

const failed: Notice = {
  event: 'backup-failed',
  state: 'problem',
  host: 'laptop',
  subject: { kind: 'source', name: 'Documents', location: '/home/ann/Documents' },
  since: new Date('2026-11-26T11:00:00Z'),
  at: new Date('2026-11-26T12:00:00Z'),
  error: 'permission denied',
  next: 'twinvault status',
};

describe('notification channels over HTTP', () => {
  it('POSTs the documented JSON to a webhook, signed with HMAC-SHA256 over timestamp and body', async () => {
    const server = await receiver();
    const notifier = new Notifier(
      channels([{ type: 'webhook', name: 'hook', url: `${server.url}/hook`, secret: 'hmac-key-1' }]),
      { log: capturedLog().log, clock, retry: FAST_RETRY },
    );
    notifier.notify(failed);
    await notifier.idle();
    const [request] = server.received;
    expect(request).toMatchObject({ method: 'POST', path: '/hook' });
    expect(request!.headers['content-type']).toBe('application/json');
    const timestamp = request!.headers['x-twinvault-timestamp'] as string;
    expect(timestamp).toBe(String(Date.parse('2026-11-26T12:00:00Z') / 1000));
    expect(request!.headers['x-twinvault-signature']).toBe(signature('hmac-key-1', timestamp, request!.body));
    expect(request!.headers['x-twinvault-signature']).not.toBe(
      signature('other-key', timestamp, request!.body),
    );
    expect(JSON.parse(request!.body)).toMatchObject({
      version: 1,
      event: 'backup-failed',
      state: 'problem',
      severity: 'critical',
      host: 'laptop',
      subject: { kind: 'source', name: 'Documents' },
      since: '2026-11-26T11:00:00.000Z',
      error: 'permission denied',
      next: 'twinvault status',
    });
  });

  it('sends Slack a mrkdwn text, and only the events and sources a channel asked for', async () => {
    const server = await receiver();
    const notifier = new Notifier(
      channels([
        { type: 'slack', name: 'chat', url: `${server.url}/services/T0/B0/X`, events: ['backup-failed'] },
        { type: 'slack', name: 'other-source', url: `${server.url}/other`, sources: ['Photos'] },
      ]),
      { log: capturedLog().log, clock, retry: FAST_RETRY },
    );
    notifier.notify(failed);
    notifier.notify({
      ...failed,
      event: 'verify-problems',
      subject: { kind: 'repository', name: 'repository' },
    });
    await notifier.idle();
    expect(server.received.map((r) => r.path)).toEqual(['/services/T0/B0/X', '/other']);
    const body = JSON.parse(server.received[0]!.body) as { text: string };
    expect(body.text).toMatch(/^:red_circle: \*Backup of "Documents" on laptop is failing\*\n/);
    expect(JSON.parse(server.received[1]!.body).text).toContain('Verify');
  });

  it('pings heartbeat URLs after successes, and the fail URL after failures', async () => {
    const server = await receiver();
    const notifier = new Notifier(
      channels([
        {
          type: 'heartbeat',
          name: 'hc',
          url: `${server.url}/ping/abc`,
          failUrl: `${server.url}/ping/abc/fail`,
        },
        { type: 'heartbeat', name: 'photos-only', url: `${server.url}/ping/photos`, sources: ['Photos'] },
      ]),
      { log: capturedLog().log, clock, retry: FAST_RETRY },
    );
    notifier.heartbeat(true, 'Documents');
    notifier.heartbeat(false, 'Documents');
    notifier.notify(failed); // heartbeats take no messages
    await notifier.idle();
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /ping/abc',
      'GET /ping/abc/fail',
    ]);
  });

  it('retries a failing channel with backoff, gives up on answers that will not change, and logs both', async () => {
    let calls = 0;
    const server = await receiver((r) => (r.path === '/flaky' ? (++calls < 3 ? 503 : 200) : 404));
    const { log, lines } = capturedLog();
    const notifier = new Notifier(
      channels([
        { type: 'webhook', name: 'flaky', url: `${server.url}/flaky` },
        { type: 'webhook', name: 'gone', url: `${server.url}/gone` },
      ]),
      { log, clock, retry: FAST_RETRY },
    );
    notifier.notify(failed);
    await notifier.idle();
    expect(server.received.filter((r) => r.path === '/flaky')).toHaveLength(3);
    expect(server.received.filter((r) => r.path === '/gone')).toHaveLength(1);
    const logged = lines.map((line) => JSON.parse(line) as { msg: string; channel?: string; err?: string });
    expect(logged.filter((l) => l.channel === 'flaky' && /trying again/.test(l.msg))).toHaveLength(2);
    expect(logged.find((l) => l.channel === 'flaky' && l.msg === 'notification sent')).toBeDefined();
    const gaveUp = logged.find((l) => l.channel === 'gone' && /given up/.test(l.msg));
    expect(gaveUp?.err).toMatch(/answered HTTP 404.*check the URL/);
  });

  it('returns at once while a channel hangs, and the others still deliver', async () => {
    const server = await receiver((r) => (r.path === '/hang' ? 'hang' : 200));
    const notifier = new Notifier(
      channels([
        { type: 'webhook', name: 'stuck', url: `${server.url}/hang` },
        { type: 'slack', name: 'chat', url: `${server.url}/chat` },
      ]),
      { log: capturedLog().log, clock, retry: FAST_RETRY },
    );
    notifier.notify(failed);
    await server.waitFor(1, (r) => r.path === '/chat');
    await server.waitFor(1, (r) => r.path === '/hang');
    expect(server.received.filter((r) => r.path === '/chat')).toHaveLength(1);
  });

  it('reads secrets from the environment or a file, and says which channel lacks one', async () => {
    const server = await receiver();
    const dir = await mkdtemp(join(tmpdir(), 'twinvault-notify-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'hook-url'), `${server.url}/from-file\n`);
    const { log, lines } = capturedLog();
    const notifier = new Notifier(
      channels([
        { type: 'webhook', name: 'from-env', url: { env: 'HOOK_URL' }, secret: { env: 'HOOK_SECRET' } },
        { type: 'slack', name: 'from-file', url: { file: join(dir, 'hook-url') } },
        { type: 'slack', name: 'unset', url: { env: 'NOT_SET_ANYWHERE' } },
        { type: 'slack', name: 'with-password', url: { env: 'URL_WITH_PASSWORD' } },
      ]),
      {
        log,
        clock,
        retry: FAST_RETRY,
        env: {
          HOOK_URL: `${server.url}/from-env`,
          HOOK_SECRET: 'k',
          URL_WITH_PASSWORD: `http://user:PASSWORD1@127.0.0.1:1/services/TOKEN1`,
        },
      },
    );
    notifier.notify(failed);
    await notifier.idle();
    expect(server.received.map((r) => r.path).sort()).toEqual(['/from-env', '/from-file']);
    const unset = lines.map((l) => JSON.parse(l)).find((l) => l.channel === 'unset');
    const withPassword = lines.map((l) => JSON.parse(l)).find((l) => l.channel === 'with-password');
    expect(withPassword.err).toContain('the URL holds a user name or password');
    expect(lines.join('\n')).not.toMatch(/PASSWORD1|TOKEN1/);
    expect(unset.err).toContain(
      'notification channel "unset" (slack) url: the environment variable NOT_SET_ANYWHERE is not set',
    );
  });

  it('never puts a secret in a message or a log line', async () => {
    const server = await receiver(() => 500);
    const { log, lines } = capturedLog();
    const slackToken = 'T00000000/B00000000/XXXXSLACKTOKEN';
    const notifier = new Notifier(
      channels([
        { type: 'slack', name: 'chat', url: `${server.url}/services/${slackToken}` },
        { type: 'webhook', name: 'hook', url: `${server.url}/hook?token=QUERYTOKEN`, secret: 'HMACSECRET' },
      ]),
      { log, clock, retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 1 } },
    );
    notifier.notify(failed);
    await notifier.idle();
    const everything = [...lines, ...server.received.map((r) => r.body + JSON.stringify(r.headers))].join(
      '\n',
    );
    for (const secret of ['XXXXSLACKTOKEN', 'QUERYTOKEN', 'HMACSECRET'])
      expect(everything).not.toContain(secret);
    expect(lines.join('\n')).toContain(`${server.url} answered HTTP 500`);
  });

  it('tests every channel, or the one named, and reports each outcome', async () => {
    const server = await receiver((r) => (r.path === '/broken' ? 500 : 200));
    const notifier = new Notifier(
      channels([
        { type: 'slack', name: 'chat', url: `${server.url}/chat` },
        { type: 'webhook', name: 'broken', url: `${server.url}/broken` },
      ]),
      { log: capturedLog().log, clock, retry: FAST_RETRY },
    );
    const test = { ...failed, event: 'test' as const, state: 'test' as const };
    expect(await notifier.test(test)).toEqual([
      { channel: 'chat', type: 'slack', ok: true },
      { channel: 'broken', type: 'webhook', ok: false, error: expect.stringMatching(/answered HTTP 500/) },
    ]);
    expect(JSON.parse(server.received[0]!.body).text).toContain('This is a test of the channel "chat"');
    expect(await notifier.test(test, 'chat')).toHaveLength(1);
    await expect(notifier.test(test, 'nope')).rejects.toThrow(
      'no notification channel is named "nope" (configured: chat, broken)',
    );
  });
});
