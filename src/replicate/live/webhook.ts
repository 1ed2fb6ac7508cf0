import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { StorageError } from '../../errors.js';
import { type ParsedEvents, parseNotification } from './s3-events.js';

export interface WebhookOptions {
  host: string;
  port: number;
  /** Callers must send "Authorization: Bearer <token>" (MinIO's auth_token does). */
  token: string;
  handle: (parsed: ParsedEvents) => Promise<unknown>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
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
  const expected = digest(options.token);
  const server = createServer((request, response) => {
    void serve(request, response, options, expected);
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
  return {
    server,
    address: `${bound.address}:${bound.port}`,
    // New connections are refused at once; requests being handled get their answer first.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: WebhookOptions,
  expected: Buffer,
) {
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  };
  if (request.method !== 'POST') return reply(405, { error: 'POST S3 event notifications here' });
  const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (given === undefined || !timingSafeEqual(digest(given), expected)) {
    options.log.warn(
      { from: request.socket.remoteAddress },
      'refused a notification without the right token',
    );
    request.resume();
    return reply(given === undefined ? 401 : 403, { error: 'missing or wrong token' });
  }
  let body: unknown;
  try {
    body = JSON.parse((await readBody(request)).toString('utf8'));
  } catch (err) {
    return reply((err as { status?: number }).status ?? 400, { error: (err as Error).message });
  }
  try {
    const parsed = parseNotification(body);
    const result = await options.handle(parsed);
    reply(200, { ok: true, result });
  } catch (err) {
    options.log.error(
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
