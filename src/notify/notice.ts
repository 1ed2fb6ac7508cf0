import type { AlertEvent } from '../config/notifications-schema.js';

export type NoticeState = 'problem' | 'recovered' | 'test';

/** What a notice is about: a source folder, a replica, or the repository as a whole. */
export interface NoticeSubject {
  kind: 'source' | 'replica' | 'repository';
  name: string;
  /** The folder, or the storage URL (never with credentials). */
  location?: string | undefined;
}

/**
 * One thing to tell people: a problem raised, its recovery, or a test. Channels render it
 * (messages.ts) or send it as JSON (the webhook's documented schema); it holds no secrets.
 */
export interface Notice {
  event: AlertEvent | 'test';
  state: NoticeState;
  /** The machine that noticed. */
  host: string;
  subject: NoticeSubject;
  /** When the problem began (for a recovery too). */
  since: Date;
  at: Date;
  /** The last error, as the user would read it in the log. */
  error?: string | undefined;
  /** The command to run or the thing to check next. */
  next?: string | undefined;
  details?: NoticeDetails;
}

/** Facts beyond the error, by event; each is optional. */
export interface NoticeDetails {
  failedAttempts?: number;
  nextAttempt?: string;
  snapshot?: string;
  skippedFiles?: number;
  firstSkipped?: string[];
  lastSuccess?: string;
  rpoSeconds?: number;
  lagSeconds?: number;
  limitSeconds?: number;
  problems?: number;
  firstProblems?: string[];
  channel?: string;
}

export type Severity = 'critical' | 'warning' | 'info';

const WARNINGS: ReadonlySet<string> = new Set(['backup-partial', 'replication-lag']);

export function severityOf(notice: Notice): Severity {
  if (notice.state !== 'problem') return 'info';
  return WARNINGS.has(notice.event) ? 'warning' : 'critical';
}
