import { Cron } from 'croner';
import type { ScheduleConfig } from '../config/schema.js';

/** When the next full scan is due, given when the last one started. */
export function nextFullScan(schedule: ScheduleConfig, last: Date): Date {
  if ('every' in schedule) return new Date(last.getTime() + schedule.every);
  const next = new Cron(schedule.cron, { paused: true }).nextRun(last);
  // A valid expression that never fires again (a date in the past): no scheduled scans.
  return next ?? new Date(8.64e15);
}

export function describeSchedule(schedule: ScheduleConfig): string {
  return 'every' in schedule ? `every ${schedule.every / 1000}s` : `cron "${schedule.cron}"`;
}

/** The time between two full scans: for a cron schedule, between its next two runs after `now`. */
export function scheduleInterval(schedule: ScheduleConfig, now: Date): number {
  if ('every' in schedule) return schedule.every;
  const first = nextFullScan(schedule, now);
  const second = nextFullScan(schedule, first);
  return second.getTime() - first.getTime();
}
