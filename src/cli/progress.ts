import { SingleBar } from 'cli-progress';
import type { FailedAttempt } from '../backend/attempts.js';
import type { BackupEvent } from '../backup/events.js';
import type { RestoreEvent } from '../restore/restore.js';
import { escapeForTerminal as shown } from './escape.js';
import { formatBytes, formatDuration } from './format.js';
import type { GlobalOptions } from './output.js';

export interface Progress<E> {
  onEvent(event: E): void;
  stop(): void;
}

/** A byte-counting bar (files, bytes, rate, ETA) on a terminal; does nothing when there is none. */
class ByteBar {
  private readonly bar: SingleBar | undefined;
  private bytes = 0;
  private files = 0;
  private total = 0;
  private readonly started = Date.now();

  constructor(global: GlobalOptions, label: string) {
    if (global.json || global.quiet || !process.stderr.isTTY) return;
    this.bar = new SingleBar({
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {files} files | {done} of {size} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    });
  }

  private running = false;

  /** Shows the bar once the total is known; what was done before counts towards it. */
  start(total: number): void {
    this.total = total;
    this.running = true;
    this.bar?.start(Math.max(1, total), this.bytes, this.payload());
  }

  add(bytes: number): void {
    this.bytes += bytes;
    this.files++;
    if (this.running) this.bar?.update(this.bytes, this.payload());
  }

  stop(): void {
    this.bar?.stop();
  }

  private payload() {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    return {
      files: this.files,
      done: formatBytes(this.bytes),
      size: formatBytes(this.total),
      rate: formatBytes(Math.round(this.bytes / seconds)),
    };
  }
}

export function backupProgress(global: GlobalOptions): Progress<BackupEvent> {
  const bar = new ByteBar(global, 'backup ');
  const say = (line: string) => {
    if (!global.quiet && !global.json) process.stderr.write(`${line}\n`);
  };
  return {
    onEvent(event) {
      if (event.type === 'waiting') say(event.reason);
      else if (event.type === 'retrying') say(shown(retryLine(event)));
      else if (event.type === 'skip') say(`skipped ${shown(event.path)}: ${shown(event.reason)}`);
      else if (event.type === 'note') say(`${shown(event.path)}: ${shown(event.message)}`);
      else if (event.type === 'scanned') bar.start(event.bytesToRead);
      else if (event.type === 'file' && event.read) bar.add(event.size);
    },
    stop: () => bar.stop(),
  };
}

/** A line for each request the store's client tries again on its own (outside backup()). */
export function sayAttempt(global: GlobalOptions): (failed: FailedAttempt) => void {
  return (failed) => {
    if (global.quiet || global.json) return;
    process.stderr.write(
      `retrying: the store failed (${failed.reason}); attempt ${failed.attempt + 1} of ${failed.of}\n`,
    );
  };
}

/** "retrying put host/stamp/a.txt in 4.0 s: … (gives up in 1 min 52 s)". */
function retryLine(event: Extract<BackupEvent, { type: 'retrying' }>): string {
  const what = `${event.operation}${event.key ? ` ${event.key}` : ''}`;
  const when =
    event.scope === 'request'
      ? ` (attempt ${event.attempt} failed)`
      : ` in ${formatDuration(event.delayMs ?? 0)}`;
  return `retrying ${what}${when}: ${event.reason} (gives up in ${formatDuration(event.remainingMs)})`;
}

export function restoreProgress(global: GlobalOptions): Progress<RestoreEvent> {
  const bar = new ByteBar(global, 'restore');
  return {
    onEvent(event) {
      if (event.type === 'planned') bar.start(event.bytes);
      else if (event.type === 'file') bar.add(event.bytes);
    },
    stop: () => bar.stop(),
  };
}
