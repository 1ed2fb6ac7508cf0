import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { systemClock } from '../clock.js';
import { AlertBook } from '../notify/alert-book.js';
import { Notifier } from '../notify/notifier.js';
import { type OverdueReporter, type OverdueSettings, OverdueWatch } from './overdue.js';
import { OVERDUE_PROCESS_ARG } from './overdue-arg.js';

type ToChild =
  | { type: 'configure'; settings: OverdueSettings; file: string }
  | { type: 'succeeded'; source: string; at: Date; snapshot: string | undefined }
  | { type: 'failed'; source: string; error: string }
  | { type: 'stop' };

type FromChild = { type: 'log'; line: string };

/**
 * The agent's side of the dead man's switch in its own process: a child started from the same
 * program, told of every success and failure over IPC. A frozen agent (a hung mount blocking its
 * event loop, SIGSTOP) sends nothing more, and the child, whose timer and network are its own,
 * says the backup is overdue. The child ends when the agent does.
 */
export class OverdueProcess implements OverdueReporter {
  private readonly child: ChildProcess;

  /** `entry`: the program to start (the CLI's own); `file`: where the watch keeps its alert. */
  constructor(
    entry: string,
    private readonly file: string,
    private readonly log: Logger,
  ) {
    this.child = fork(entry, [OVERDUE_PROCESS_ARG], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child.on('message', (message: FromChild) => {
      if (message.type === 'log') relayLog(this.log, message.line);
    });
    this.child.on('exit', (code, signal) => {
      if (code !== 0) this.log.error({ code, signal }, 'the overdue-backup watch process ended');
    });
    this.child.on('error', (err) =>
      this.log.error({ err: err.message }, 'the overdue-backup watch process failed'),
    );
  }

  configure(settings: OverdueSettings): void {
    this.send({ type: 'configure', settings, file: this.file });
  }

  succeeded(source: string, at: Date, snapshot: string | undefined): void {
    this.send({ type: 'succeeded', source, at, snapshot });
  }

  failed(source: string, error: string): void {
    this.send({ type: 'failed', source, error });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private send(message: ToChild): void {
    if (this.child.connected) this.child.send(message);
  }
}

/** The child: runs the watch until told to stop, or until the agent is gone. */
export async function runOverdueProcess(): Promise<void> {
  const log = pino(
    new Writable({
      write(chunk, _encoding, done) {
        if (process.connected) process.send?.({ type: 'log', line: String(chunk) } satisfies FromChild);
        done();
      },
    }),
  );
  let watch: { book: AlertBook; notifier: Notifier; overdue: OverdueWatch } | undefined;
  let host = '';
  const finish = async () => {
    await watch?.overdue.stop();
    await watch?.notifier.idle(5_000);
    process.exit(0);
  };
  process.on('disconnect', () => void finish());
  // Ctrl+C and a service manager's SIGTERM reach the whole group: the agent decides when this ends
  // (it says so, or it is gone), so its last backup's success is still heard.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('message', async (message: ToChild) => {
    try {
      if (message.type === 'configure') {
        host = message.settings.host;
        if (!watch) {
          const notifier = new Notifier([], { log, clock: systemClock });
          const book = await AlertBook.open(notifier, () => host, log, message.file);
          watch = { book, notifier, overdue: new OverdueWatch(book, systemClock) };
        }
        watch.notifier.configure(message.settings.notifications.channels);
        watch.overdue.configure(message.settings);
      } else if (message.type === 'succeeded')
        watch?.overdue.succeeded(message.source, message.at, message.snapshot);
      else if (message.type === 'failed') watch?.overdue.failed(message.source, message.error);
      else await finish();
    } catch (err) {
      log.error({ err: (err as Error).message }, 'the overdue-backup watch failed to handle a message');
    }
  });
}

function relayLog(log: Logger, line: string): void {
  try {
    const {
      level,
      msg,
      time: _t,
      pid: _p,
      hostname: _h,
      ...fields
    } = JSON.parse(line) as Record<string, unknown>;
    const method = (level as number) >= 50 ? 'error' : (level as number) >= 40 ? 'warn' : 'info';
    log[method]({ ...fields, from: 'overdue-watch' }, String(msg));
  } catch {
    log.warn({ line }, 'unreadable log line from the overdue-backup watch');
  }
}
