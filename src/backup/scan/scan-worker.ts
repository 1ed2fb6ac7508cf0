/**
 * A scan thread (see parallel-scan.ts): walks the folders it is given, sends what it finds in
 * batches, and hands half of its waiting folders back when asked (an idle sibling wants work).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ScanThreadData, ToCoordinator, ToScanThread } from './parallel-scan.js';
import { Walker } from './walker.js';

const BATCH_FIELDS = 8192;
const { sources, id, shareRequests } = workerData as ScanThreadData;
const port = parentPort!;
const send = (message: ToCoordinator) => port.postMessage(message);

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

port.on('message', (message: ToScanThread) => {
  if (message.type === 'roots') for (const index of message.sources) walker.addRoot(index);
  else walker.addTasks(message.tasks);
  while (walker.step()) {
    if (Atomics.load(shareRequests, id) === 1 && walker.pending >= 2) {
      flush();
      send({ type: 'split', tasks: walker.split() });
      Atomics.store(shareRequests, id, 0);
    }
  }
  flush();
  send({ type: 'idle' });
});
