import { contentTransitions, firstArchiveDay } from '../../aws/lifecycle-transitions.js';
import { ARCHIVE_NOTICE_DAYS } from '../../aws/replica-archive-check.js';
import { replicaArchiveWarnings } from '../../aws/replica-archive-warnings.js';
import {
  applyRepositoryLifecycle,
  lifecycleLocation,
  planRepositoryLifecycle,
} from '../../aws/repository-lifecycle.js';
import { systemClock } from '../../clock.js';
import { UsageError } from '../../errors.js';
import { withRepository } from '../context.js';
import { type GlobalOptions, printResult } from '../output.js';

export interface LifecycleFlags {
  print?: boolean;
  apply?: boolean;
  iaDays: string;
  glacierIrDays: string;
  glacierDays: string;
  deepArchiveDays: string;
  abortDays: string;
}

/** `twinvault lifecycle --print|--apply`: storage-class transitions for the repository's content. */
export async function run(global: GlobalOptions, flags: LifecycleFlags): Promise<void> {
  if (!flags.print === !flags.apply)
    throw new UsageError('give --print (show the rules) or --apply (write them)');
  const days = (value: string, flag: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`${flag} takes a whole number of days (${min} or more), not ${value}`);
    return n;
  };
  const transitions = contentTransitions({
    infrequentAccess: days(flags.iaDays, '--ia-days', 0),
    glacierInstant: days(flags.glacierIrDays, '--glacier-ir-days', 0),
    glacier: days(flags.glacierDays, '--glacier-days', 0),
    deepArchive: days(flags.deepArchiveDays, '--deep-archive-days', 0),
  });
  await withRepository(global, async ({ backend, config }) => {
    const location = lifecycleLocation(config);
    const archiveDay = firstArchiveDay(transitions);
    const replicas =
      archiveDay === undefined
        ? { warnings: [], checked: 0 }
        : await replicaArchiveWarnings({
            backend,
            config,
            archiveDay,
            applying: !!flags.apply,
            now: systemClock.now(),
          });
    const { warnings } = replicas;
    if (!global.quiet && !global.json && replicas.checked > 0 && warnings.length === 0) {
      process.stderr.write(
        `replicas checked: none lacks an object the rule would archive within ${ARCHIVE_NOTICE_DAYS} days\n`,
      );
    }
    const { hosts, rules } = await planRepositoryLifecycle({
      backend,
      config,
      location,
      transitions,
      abortMultipartDays: days(flags.abortDays, '--abort-days', 1),
    });
    if (!global.quiet && !global.json)
      for (const line of warnings) process.stderr.write(`warning: ${line}\n`);
    if (flags.print) {
      printResult(global, { bucket: location.bucket, rules, warnings }, () => [
        JSON.stringify({ Rules: rules }, null, 2),
      ]);
      return;
    }
    const kept = await applyRepositoryLifecycle(config, location, rules);
    printResult(global, { bucket: location.bucket, rules, otherRulesKept: kept, warnings }, () => [
      `wrote ${rules.length} lifecycle rule(s) to ${location.bucket} (hosts: ${hosts.join(', ') || 'none yet'}); kept ${kept} other rule(s)`,
      'run it again when a new host starts backing up to this repository',
    ]);
  });
}
