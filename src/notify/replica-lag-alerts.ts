import { redactUrlPassword } from '../config/redact.js';
import type { BehindReplica } from '../replicate/replica-lag.js';
import type { AlertBook } from './alert-book.js';
import type { NoticeSubject } from './notice.js';

export interface LagView {
  list(): BehindReplica[];
  isCurrent(url: string): boolean;
}

const LAG_MARK = 'lag:';

/**
 * Raises "replication-lag" for each configured replica behind for longer than `limitMs`, and
 * resolves it once a pass has found the replica complete. When a replica fell behind is kept in
 * the book, so a restart neither restarts its lag nor says it caught up when nobody checked.
 * The agent's and the live replicator's timers both call this.
 */
export function checkReplicaLag(
  book: AlertBook,
  lag: LagView,
  configured: readonly string[],
  now: Date,
  limitMs: number,
  cli = 'twinvault',
): void {
  const behind = new Map(lag.list().map((replica) => [replica.url, replica]));
  for (const url of configured) {
    const subject = replicaSubject(url);
    const mark = `${LAG_MARK}${subject.name}`;
    const missing = behind.get(url);
    if (missing) book.mark(mark, missing.since);
    const since = book.markOf(mark);
    if (since === undefined) continue;
    if (lag.isCurrent(url)) {
      book.clearMark(mark);
      book.resolve('replication-lag', subject, now);
      continue;
    }
    const lagMs = now.getTime() - since.getTime();
    if (lagMs <= limitMs) continue;
    book.raise({
      event: 'replication-lag',
      subject,
      since,
      at: now,
      error: missing?.error,
      next: `see what is missing with \`${cli} replicas\`; catch up with \`${cli} replicate --to ${subject.name}\``,
      details: { lagSeconds: Math.round(lagMs / 1000), limitSeconds: Math.round(limitMs / 1000) },
    });
  }
  // A replica taken out of the config is no longer watched: its alert is dropped, not "recovered".
  const names = new Set(configured.map((url) => replicaSubject(url).name));
  book.forgetAllBut(names, ['replication-lag'], 'replica', LAG_MARK);
}

function replicaSubject(url: string): NoticeSubject {
  const shown = redactUrlPassword(url);
  return { kind: 'replica', name: shown, location: shown };
}
