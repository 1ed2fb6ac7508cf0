import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../clock.js';
import { ConfigError, isTwinvaultError, StorageError } from '../../errors.js';
import { CallerLogLimit } from './caller-log-limit.js';
import { notificationShapeProblem, type ParsedEvents, parseNotification } from './s3-events.js';

export interface WebhookOptions {
  host: string;
  port: number;
  /** Callers must send "Authorization: Bearer <token>" (MinIO's auth_token does). */
  token: string;
  handle: (parsed: ParsedEvents) => Promise<unknown>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** For the per-caller limit on log lines. */
  clock?: Clock;
}

/** Shorter tokens can be guessed; "openssl rand -hex 32" gives 64 characters. */
export const MIN_TOKEN_LENGTH = 16;

/** Refuses a token short enough to guess (an empty one included). */
export function checkWebhookToken(token: string): void {
  if (token.length >= MIN_TOKEN_LENGTH) return;
  throw new ConfigError(
    `the webhook token is ${token.length === 0 ? 'empty' : `only ${token.length} characters long`}; it needs at least ${MIN_TOKEN_LENGTH}`,
    { hint: 'generate one with "openssl rand -hex 32" and give the same to the sender (MinIO: auth_token)' },
  );
}

/** Whether a listen address keeps the webhook on this machine. */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(name);
}

/** Notification bodies are small; anything larger is not one. */
const MAX_BODY = 4 * 1024 * 1024;

/**
 * Receives S3 event notifications over HTTP (MinIO's webhook target, or anything that POSTs the
 * same JSON). Answers only once the named objects are copied: 200 then, 500 if they could not
 * be, so a sender with a queue (MinIO's queue_dir) sends again; the hourly pass catches the rest.
 */
export async function startWebhook(
  options: WebhookOptions,
): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  checkWebhookToken(options.token);
  const expected = digest(options.token);
  const limit = new CallerLogLimit(options.clock ?? systemClock);
  const server = createServer((request, response) => {
    void serve(request, response, options, expected, limit);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StorageError(`cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`, {
          cause: err,
          ...(err.code === 'EADDRINUSE'
            ? { hint: 'another program uses that port; choose another with --listen' }
            : {}),
        }),
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  const bound = server.address() as AddressInfo;
  const address = `${bound.address}:${bound.port}`;
  if (!isLoopback(options.host)) {
    options.log.warn(
      { address },
      'the webhook listens beyond this machine without TLS: the token and the events cross the network in clear; listen on 127.0.0.1 behind a TLS proxy, or only on a private network',
    );
  }
  return {
    server,
    address,
    // New connections are refused at once; requests being handled get their answer first.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).finally(() => {
        for (const { caller, suppressed } of limit.drain())
          options.log.warn(
            { from: caller, suppressed },
            `${suppressed} more log lines about this caller were suppressed`,
          );
      }),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: WebhookOptions,
  expected: Buffer,
  limit: CallerLogLimit,
) {
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  };
  const from = request.socket.remoteAddress ?? 'unknown';
  // Every line a request causes counts against its caller's share (caller-log-limit.ts).
  const log = (level: 'warn' | 'error', fields: Record<string, unknown>, message: string) => {
    const { write, suppressed } = limit.take(from);
    if (suppressed > 0)
      options.log.warn(
        { from, suppressed },
        `${suppressed} more log lines about this caller were suppressed`,
      );
    if (write) options.log[level]({ from, ...fields }, message);
  };
  if (request.method !== 'POST') return reply(405, { error: 'POST S3 event notifications here' });
  const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (given === undefined || !timingSafeEqual(digest(given), expected)) {
    log('warn', {}, 'refused a notification without the right token');
    request.resume();
    return reply(given === undefined ? 401 : 403, { error: 'missing or wrong token' });
  }
  // A body that is not a notification stays one however often it is sent: 400, never "retry".
  let body: unknown;
  try {
    body = JSON.parse((await readBody(request)).toString('utf8'));
  } catch (err) {
    const status = (err as { status?: number }).status ?? 400;
    log('warn', { status }, `refused a body that is not a notification: ${(err as Error).message}`);
    return reply(status, { error: (err as Error).message });
  }
  const problem = notificationShapeProblem(body);
  if (problem !== undefined) {
    log('warn', { status: 400 }, `refused a body that is not a notification: ${problem}`);
    return reply(400, { error: problem });
  }
  try {
    const parsed = parseNotification(body);
    const result = await options.handle(parsed);
    reply(200, { ok: true, result });
  } catch (err) {
    // An event naming a key no repository can hold (USAGE: "//", "..", over 1,024 bytes).
    if (isTwinvaultError(err) && err.code === 'USAGE') {
      log('warn', { status: 400, err: err.message }, 'refused an event that can never be copied');
      return reply(400, { error: err.message });
    }
    log(
      'error',
      { err: (err as Error).message },
      'could not copy the objects an event named; the sender should retry',
    );
    reply(500, { error: (err as Error).message });
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error('notification body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
