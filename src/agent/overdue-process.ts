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
  private child: ChildProcess | undefined;
  private configured: ToChild | undefined;
  private stopping = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  /** `entry`: the program to start (the CLI's own); `file`: where the watch keeps its alert. */
  constructor(
    private readonly entry: string,
    private readonly file: string,
    private readonly log: Logger,
  ) {
    this.start();
  }

  configure(settings: OverdueSettings): void {
    this.configured = { type: 'configure', settings, file: this.file };
    this.send(this.configured);
  }

  succeeded(source: string, at: Date, snapshot: string | undefined): void {
    this.send({ type: 'succeeded', source, at, snapshot });
  }

  failed(source: string, error: string): void {
    this.send({ type: 'failed', source, error });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    this.send({ type: 'stop' });
    // It ignores SIGTERM (meant for the agent): a child that does not finish is killed outright.
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }

  private start(): void {
    const child = fork(this.entry, [OVERDUE_PROCESS_ARG], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      // Not the agent's --inspect and the like: the port would clash.
      execArgv: process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
    });
    this.child = child;
    // The agent's process may end without waiting for its watch (which then sees the disconnect).
    child.unref();
    child.channel?.unref();
    child.on('message', (message: FromChild) => {
      if (message.type === 'log') relayLog(this.log, message.line);
    });
    child.on('error', (err) =>
      this.log.error({ err: err.message }, 'the overdue-backup watch process failed'),
    );
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      // Without it nobody would say a stuck agent's backups are overdue: started again, with backoff.
      const delay = Math.min(RESTART_MAX_MS, 1000 * 2 ** this.restarts++);
      this.log.error(
        { code, signal, restartInMs: delay },
        'the overdue-backup watch process ended; starting it again',
      );
      this.restartTimer = setTimeout(() => {
        this.start();
        if (this.configured) this.send(this.configured);
      }, delay);
      this.restartTimer.unref();
    });
  }

  private send(message: ToChild): void {
    if (this.child?.connected) this.child.send(message);
  }
}

const STOP_WAIT_MS = 10_000;
const RESTART_MAX_MS = 300_000;

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
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
  // One message after another: a success must not overtake the configure that opens the book.
  let handled: Promise<void> = Promise.resolve();
  process.on('message', (message: ToChild) => {
    handled = handled.then(() => handle(message));
  });
  async function handle(message: ToChild): Promise<void> {
    try {
      if (message.type === 'configure') {
        host = message.settings.host;
        if (!watch) {
          const notifier = new Notifier([], { log, clock: systemClock });
          const book = await AlertBook.open(notifier, () => host, log, message.file);
          watch = { book, notifier, overdue: new OverdueWatch(book, systemClock, log) };
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
  }
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
