/**
 * A scan thread (see parallel-scan.ts): walks the folders it is given and sends what it finds to
 * the coordinating thread in batches. Work is shared between scan threads directly: after each
 * folder, a thread with folders waiting hands half of them to a sibling that is idle, so sharing
 * never waits for the coordinating thread (which may be busy loading modules).
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import {
  BUSY,
  CLAIMED,
  IDLE,
  type ScanThreadData,
  type ToCoordinator,
  type ToScanThread,
} from './parallel-scan.js';
import { Walker } from './walker.js';

const BATCH_FIELDS = 6144;
const { sources, id, states, rounds, siblings } = workerData as ScanThreadData;
const coordinator = parentPort!;
const send = (message: ToCoordinator) => coordinator.postMessage(message);

let batch: string[] = [];
const flush = () => {
  if (batch.length === 0) return;
  send({ type: 'records', fields: batch.join('\0') });
  batch = [];
};
const walker = new Walker(sources, {
  record(path, pathBytes, stat) {
    batch.push(path, pathBytes, stat);
    if (batch.length >= BATCH_FIELDS) flush();
  },
  skip: (path, reason) => send({ type: 'skip', path, reason }),
  note: (path, message) => send({ type: 'note', path, message }),
});

/** Gives half of the waiting folders to the first idle sibling, if any. */
function share(): void {
  if (walker.pending < 2) return;
  for (const [sibling, port] of siblings) {
    if (Atomics.compareExchange(states, sibling, IDLE, CLAIMED) === IDLE) {
      Atomics.add(rounds, 0, 1); // before this round's own "idle": see parallel-scan.ts
      port.postMessage({ type: 'tasks', tasks: walker.split() } satisfies ToScanThread);
      return;
    }
  }
}

function work(message: ToScanThread): void {
  Atomics.store(states, id, BUSY);
  if (message.type === 'roots') for (const index of message.sources) walker.addRoot(index);
  else walker.addTasks(message.tasks);
  while (walker.step()) share();
  flush();
  Atomics.store(states, id, IDLE);
  send({ type: 'idle' });
}

coordinator.on('message', work);
for (const [, port] of siblings) (port as MessagePort).on('message', work);
