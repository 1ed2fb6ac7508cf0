import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { RECORD_FIELDS } from './records.js';
import { type FolderTask, type SourceSpec, Walker } from './walker.js';

export interface ScanConsumer {
  /**
   * A batch of records: RECORD_FIELDS strings each (see records.ts), all joined by NUL. Kept as
   * one string until used, a batch costs little while it waits.
   */
  records(batch: string): void;
  skip(path: string, reason: string): void;
  note(path: string, message: string): void;
}

/** A scan thread's state, in a shared array all threads see. */
export const BUSY = 0;
export const IDLE = 1;
/** Idle, but a sibling is sending it folders. */
export const CLAIMED = 2;

export interface ScanThreadData {
  sources: SourceSpec[];
  id: number;
  /** One slot per thread: BUSY, IDLE or CLAIMED. */
  states: Int32Array;
  /** One slot: rounds of work handed out so far (each ends with one "idle" message). */
  rounds: Int32Array;
  /** A port to each other scan thread, by its id. */
  siblings: Array<[number, MessagePort]>;
}

export type ToScanThread = { type: 'roots'; sources: number[] } | { type: 'tasks'; tasks: FolderTask[] };
export type ToCoordinator =
  | { type: 'records'; fields: string }
  | { type: 'skip'; path: string; reason: string }
  | { type: 'note'; path: string; message: string }
  | { type: 'idle' };

/** Two threads: a scan is lstat calls, and this is what halves their wall time on two cores. */
export const DEFAULT_SCAN_THREADS = Math.min(2, availableParallelism());

/**
 * Scans the sources with `threads` threads (0: on this thread). Scanning is system calls, one per
 * file; on other threads it overlaps with what this one does meanwhile (loading modules and the
 * parent snapshot, talking to the repository) and spreads over the cores. Work is shared folder
 * by folder: a thread that runs dry gets half of a busy thread's waiting folders, straight from
 * that thread (scan-worker.ts).
 */
export function scanSources(
  sources: SourceSpec[],
  consumer: ScanConsumer,
  threads: number,
  signal?: AbortSignal,
  /** Per source, only these paths (see Walker.addFocus): a small scan, done on this thread. */
  focus?: Array<string[] | undefined>,
): Promise<void> {
  // Whole sources go to the threads; a focus (a few paths) is quicker done here.
  if (focus?.some((paths) => paths !== undefined)) return scanHere(sources, consumer, focus);
  if (threads <= 0 || sources.length === 0) return scanHere(sources, consumer);
  return new Promise((resolve, reject) => {
    const states = new Int32Array(new SharedArrayBuffer(4 * threads)).fill(IDLE);
    states[0] = BUSY;
    // The scan is over when every round of work handed out has ended. A thread that hands folders
    // to a sibling counts that round before its own round ends, and each thread's records come
    // before its "idle" on the same channel: so when the "idle" messages received equal the
    // rounds, nothing is being scanned and every record has arrived.
    const rounds = new Int32Array(new SharedArrayBuffer(4)).fill(1);
    let ended = 0;
    const siblings: Array<Array<[number, MessagePort]>> = Array.from({ length: threads }, () => []);
    for (let a = 0; a < threads; a++) {
      for (let b = a + 1; b < threads; b++) {
        const { port1, port2 } = new MessageChannel();
        siblings[a]!.push([b, port1]);
        siblings[b]!.push([a, port2]);
      }
    }
    let settled = false;
    const workers: Worker[] = [];
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      for (const worker of workers) void worker.terminate();
      if (error) reject(error);
      else resolve();
    };
    for (let id = 0; id < threads; id++) {
      const ports = siblings[id]!;
      const worker = startScanThread(
        { sources, id, states, rounds, siblings: ports },
        ports.map(([, port]) => port),
      );
      workers.push(worker);
      worker.on('message', (message: ToCoordinator) => {
        if (settled) return; // terminate() is asynchronous: messages already sent still arrive
        try {
          switch (message.type) {
            case 'records':
              consumer.records(message.fields);
              break;
            case 'skip':
              consumer.skip(message.path, message.reason);
              break;
            case 'note':
              consumer.note(message.path, message.message);
              break;
            case 'idle':
              if (++ended === Atomics.load(rounds, 0)) settle();
              break;
          }
        } catch (err) {
          settle(err);
        }
      });
      worker.on('error', settle);
      worker.on('exit', (code) =>
        settle(new Error(`a scan thread stopped unexpectedly (exit code ${code})`)),
      );
    }
    const onAbort = () => settle(new Error('the scan was stopped'));
    signal?.addEventListener('abort', onAbort, { once: true });
    workers[0]!.postMessage({ type: 'roots', sources: sources.map((_, i) => i) } satisfies ToScanThread);
  });
}

async function scanHere(
  sources: SourceSpec[],
  consumer: ScanConsumer,
  focus?: Array<string[] | undefined>,
): Promise<void> {
  let batch: string[] = [];
  const walker = new Walker(sources, {
    record(path, pathBytes, stat) {
      batch.push(path, pathBytes, stat);
    },
    skip: (path, reason) => consumer.skip(path, reason),
    note: (path, message) => consumer.note(path, message),
  });
  for (let i = 0; i < sources.length; i++) {
    const paths = focus?.[i];
    if (paths === undefined) walker.addRoot(i);
    else walker.addFocus(i, paths);
  }
  while (walker.step()) {
    if (batch.length >= 1024 * RECORD_FIELDS) {
      consumer.records(batch.join('\0'));
      batch = [];
    }
  }
  if (batch.length > 0) consumer.records(batch.join('\0'));
}

/** The built thread module; under tsx (tests, development) the TypeScript source through tsx. */
function startScanThread(workerData: ScanThreadData, transferList: MessagePort[]): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./scan-worker.js', import.meta.url), { workerData, transferList });
  const source = new URL('./scan-worker.ts', import.meta.url).href;
  // Resolved here, by absolute URL: the thread may run in a folder that cannot see our modules.
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`,
    { eval: true, workerData, transferList },
  );
}

/**
 * A scan started before its consumer exists (the CLI starts it before the repository is even
 * opened): what it finds is kept until consume() is called.
 */
export class ScanHandle implements ScanConsumer {
  readonly done: Promise<void>;
  private target: ScanConsumer | undefined;
  private readonly buffered: Array<(consumer: ScanConsumer) => void> = [];
  private readonly stopper = new AbortController();

  constructor(
    readonly sources: SourceSpec[],
    threads: number,
    focus?: Array<string[] | undefined>,
  ) {
    this.done = scanSources(sources, this, threads, this.stopper.signal, focus);
    this.done.catch(() => {}); // observed through consume(); a stopped scan has no one to tell
  }

  records(batch: string): void {
    if (this.target) this.target.records(batch);
    else this.buffered.push((consumer) => consumer.records(batch));
  }

  skip(path: string, reason: string): void {
    if (this.target) this.target.skip(path, reason);
    else this.buffered.push((consumer) => consumer.skip(path, reason));
  }

  note(path: string, message: string): void {
    if (this.target) this.target.note(path, message);
    else this.buffered.push((consumer) => consumer.note(path, message));
  }

  /** Hands what was found so far, and all that follows, to `consumer`; resolves when the scan ends. */
  consume(consumer: ScanConsumer): Promise<void> {
    this.target = consumer;
    for (const deliver of this.buffered.splice(0)) deliver(consumer);
    return this.done;
  }

  /** Ends the scan threads early (the backup failed before it needed the result). */
  stop(): void {
    this.stopper.abort();
  }
}
