import { systemClock } from '../../clock.js';
import { type UnlockedLock, unlock } from '../../repository/unlock.js';
import { withRepository } from '../context.js';
import { type GlobalOptions, printResult } from '../output.js';

/** `twinvault unlock`: removes stale locks; with --remove-all, every lock not held by a process running here. */
export async function run(global: GlobalOptions, flags: { removeAll?: boolean }): Promise<void> {
  await withRepository(global, async ({ backend }) => {
    const removeAll = flags.removeAll ?? false;
    const result = await unlock(backend, { clock: systemClock, removeAll });
    const liveRemoved = result.removed.filter((lock) => lock.reason === 'forced');
    if (liveRemoved.length > 0 && !global.quiet) {
      // On stderr, also with --json: whoever ran it must see this.
      process.stderr.write(
        `warning: removed ${liveRemoved.length} lock(s) that had not expired (${liveRemoved
          .map((lock) => `${lock.info!.operation} on ${lock.info!.host}, pid ${lock.info!.pid}`)
          .join(
            '; ',
          )}). If any of them is still running, a prune may now delete what a running backup is writing, ` +
          'or a backup may build on a snapshot being forgotten: stop them, then run "twinvault verify".\n',
      );
    }
    printResult(global, result, () => [
      ...result.removed.map((lock) => `removed ${describe(lock)}`),
      ...result.kept.map((lock) => `kept    ${describe(lock)}`),
      `${result.removed.length} lock(s) removed, ${result.kept.length} kept${
        result.kept.length > 0 && !removeAll
          ? ' ("twinvault unlock --remove-all" removes live locks of other machines too: only once nothing of twinvault runs there)'
          : ''
      }`,
    ]);
  });
}

function describe(lock: UnlockedLock): string {
  const info = lock.info;
  if (!info) return `${lock.key} (${lock.why})`;
  return `${info.kind} lock of ${info.operation} on ${info.host} (pid ${info.pid}, since ${info.created}): ${lock.why}`;
}
