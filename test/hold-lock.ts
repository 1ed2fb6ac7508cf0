/**
 * A process that takes a repository lock the way twinvault's commands do and holds it until it is
 * killed: `tsx test/hold-lock.ts <folder> <exclusive|shared>`. Prints "locked <key>" once it holds it.
 */
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
process.stdout.write(`locked ${lock.key}\n`);
setInterval(() => {}, 60_000);
