import { UsageError } from '../errors.js';

/**
 * A --keep-within duration: years (y), months (mo), weeks (w), days (d), hours (h), minutes (m)
 * and seconds (s), combined as in "1y2mo", "36h", "90s", "2m". Years and months are calendar
 * ones, as in restic; unlike restic, "m" is minutes (months are "mo"), so "keep backups for N
 * minutes" can be said.
 */
export interface CalendarDuration {
  years: number;
  months: number;
  /** Everything below a month, in milliseconds. */
  ms: number;
}

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

export function parseKeepWithin(text: string): CalendarDuration {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+)(mo|y|w|d|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new UsageError(
      `${JSON.stringify(text)} is not a duration: use numbers with y, mo, w, d, h, m (minutes) or s, e.g. "7d", "36h", "1y2mo", "90s"`,
    );
  }
  const duration: CalendarDuration = { years: 0, months: 0, ms: 0 };
  for (const [, count, unit] of parts) {
    const n = Number(count);
    if (unit === 'y') duration.years += n;
    else if (unit === 'mo') duration.months += n;
    else duration.ms += n * UNIT_MS[unit!]!;
  }
  return duration;
}

/** The moment `duration` before `from`, calendar-wise for years and months. */
export function before(from: Date, duration: CalendarDuration): Date {
  const date = new Date(from.getTime());
  if (duration.years || duration.months) {
    date.setUTCMonth(date.getUTCMonth() - duration.months - 12 * duration.years);
  }
  return new Date(date.getTime() - duration.ms);
}
