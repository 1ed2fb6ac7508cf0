import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';

/**
 * An HTTP proxy in front of a test S3 server that injects faults on request: throttling answers,
 * corrupted upload bodies. Records each request's method and headers for assertions.
 */
export class FaultyProxy {
  readonly seen: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }> = [];
  private failuresLeft = 0;
  private failureStatus = 503;
  private failureCode = 'SlowDown';
  private corruptUploads = 0;
  private server: Server | undefined;
  endpoint = '';
  /** While true, every request's connection is cut: a store that cannot be reached. */
  down = false;
  /** While true, requests are taken and never answered: a store that stalls. */
  stalled = false;

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  /** The next `count` requests get an S3 error answer instead of reaching the server. */
  failNext(count: number, status = 503, code = 'SlowDown'): void {
    this.failuresLeft = count;
    this.failureStatus = status;
    this.failureCode = code;
  }

  /** The next `count` requests with a body have one byte of it flipped on the way. */
  corruptNextUploads(count: number): void {
    this.corruptUploads = count;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down) {
      req.socket.destroy();
      return;
    }
    if (this.stalled) return; // the client's idle timeout ends it
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      res.writeHead(this.failureStatus, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0"?><Error><Code>${this.failureCode}</Code><Message>injected fault</Message></Error>`,
      );
      return;
    }
    if (this.corruptUploads > 0 && body.length > 0) {
      this.corruptUploads--;
      body = Buffer.from(body);
      const middle = Math.floor(body.length / 2);
      body[middle] = body[middle]! ^ 0xff;
    }
    const url = new URL(req.url ?? '/', this.target);
    const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  }
}

/** A TCP server that accepts connections and never answers: a store that hangs. */
export async function startBlackhole(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
