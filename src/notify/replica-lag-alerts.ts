import { redactUrlPassword } from '../config/redact.js';
import type { BehindReplica } from '../replicate/replica-lag.js';
import type { AlertBook } from './alert-book.js';
import type { NoticeSubject } from './notice.js';

/**
 * Raises "replication-lag" for each replica behind for longer than `limitMs`, and resolves it for
 * those no longer behind: the agent's and the live replicator's timers both call this.
 */
export function checkReplicaLag(
  book: AlertBook,
  behind: readonly BehindReplica[],
  now: Date,
  limitMs: number,
): void {
  for (const replica of behind) {
    const lag = now.getTime() - replica.since.getTime();
    if (lag <= limitMs) continue;
    const subject = replicaSubject(replica.url);
    book.raise({
      event: 'replication-lag',
      subject,
      since: replica.since,
      at: now,
      error: replica.error,
      next: `see what is missing with \`twinvault replicas\`; catch up with \`twinvault replicate --to ${subject.name}\``,
      details: { lagSeconds: Math.round(lag / 1000), limitSeconds: Math.round(limitMs / 1000) },
    });
  }
  const stillBehind = new Set(behind.map((replica) => replicaSubject(replica.url).name));
  for (const subject of book.raisedOf('replication-lag')) {
    if (!stillBehind.has(subject.name)) book.resolve('replication-lag', subject, now);
  }
}

function replicaSubject(url: string): NoticeSubject {
  const shown = redactUrlPassword(url);
  return { kind: 'replica', name: shown, location: shown };
}
