/**
 * A process that takes a repository lock the way twinvault's commands do and holds it until it is
 * killed: `tsx test/hold-lock.ts <folder> <exclusive|shared|writing>`. Prints "locked <key>" once
 * it holds it; "writing" is a backup with an upload under way (a body that never ends).
 */
import { PassThrough } from 'node:stream';
import { LocalBackend } from '../src/backend/local/local-backend.js';
import { systemClock } from '../src/clock.js';
import { RepositoryLock } from '../src/repository/locks.js';
import { lockExclusively } from '../src/retention/exclusive-lock.js';

const [folder, kind] = process.argv.slice(2) as [string, string];
const backend = new LocalBackend(folder);
const lock =
  kind === 'exclusive'
    ? (await lockExclusively(backend, { operation: 'prune', clock: systemClock, waitForBackups: false })).lock
    : await RepositoryLock.acquire(backend, 'shared', 'backup', systemClock);
if (kind === 'writing') {
  const body = new PassThrough();
  body.write(Buffer.alloc(64 * 1024, 7));
  void backend.put('laptop/20261120_100000/Documents/big.bin', { size: 1 << 30, open: () => body });
  // The upload's temporary file is there once the first bytes are.
  await new Promise((resolve) => setTimeout(resolve, 500));
}
process.stdout.write(`locked ${lock.key}\n`);
setInterval(() => {}, 60_000);
