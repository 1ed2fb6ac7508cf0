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

/**
 * When a source last backed up at `last` is overdue by default: once two scheduled full scans
 * have come and gone without a success ("twice the schedule", for cron schedules too).
 */
export function defaultOverdueAt(schedule: ScheduleConfig, last: Date): Date {
  return nextFullScan(schedule, nextFullScan(schedule, last));
}
