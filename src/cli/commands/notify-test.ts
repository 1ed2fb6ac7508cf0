import { pino } from 'pino';
import { systemClock } from '../../clock.js';
import { Notifier } from '../../notify/notifier.js';
import { hostOf, loadCliConfig } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { type GlobalOptions, printResult } from '../output.js';

/** `twinvault notify test [CHANNEL]`: one test message per channel, now; exit 1 if any failed. */
export async function run(global: GlobalOptions, _flags: object, args: string[]): Promise<void> {
  const config = await loadCliConfig(global);
  const notifier = new Notifier(config.notifications.channels, {
    log: pino({ level: 'silent' }),
    clock: systemClock,
  });
  const now = systemClock.now();
  const host = hostOf(config);
  const results = await notifier.test(
    {
      event: 'test',
      state: 'test',
      host,
      subject: { kind: 'repository', name: 'test' },
      since: now,
      at: now,
    },
    args[0],
  );
  printResult(global, { results }, () =>
    results.map((r) =>
      r.ok ? `sent     ${r.channel} (${r.type})` : `FAILED   ${r.channel} (${r.type}): ${r.error}`,
    ),
  );
  if (results.some((r) => !r.ok)) process.exitCode = EXIT.failure;
}
