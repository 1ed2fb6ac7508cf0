import type { Notice } from './notice.js';

export interface Message {
  /** One line: an e-mail subject, a chat message's first line. */
  title: string;
  /** Plain text: what, where, since when, the last error, what to do next. */
  text: string;
}

/**
 * The words of every notification, for people reading them on a phone at 3 a.m.: the title says
 * what is wrong and where, the text since when, the last error and the command to run next.
 * Golden files in test/golden/notify hold one of each.
 */
export function renderNotice(notice: Notice): Message {
  const render = notice.state === 'recovered' ? RECOVERED[notice.event] : PROBLEMS[notice.event];
  const { title, lead } = render(notice);
  const lines = [lead];
  if (notice.error && notice.state !== 'recovered') lines.push(`Last error: ${notice.error}`);
  lines.push(...detailLines(notice));
  if (notice.next && notice.state !== 'recovered') lines.push('', `What to do: ${notice.next}`);
  return { title, text: lines.join('\n') };
}

type Render = (notice: Notice) => { title: string; lead: string };

const PROBLEMS: Record<Notice['event'], Render> = {
  'backup-failed': (n) => ({
    title: `Backup of ${sourceName(n)} on ${n.host} is failing`,
    lead: `The backup of ${sourceWhere(n)} on ${n.host} has been failing since ${time(n.since)} (${ago(n)}).`,
  }),
  'backup-partial': (n) => ({
    title: `Backup of ${sourceName(n)} on ${n.host} skipped ${plural(n.details?.skippedFiles ?? 0, 'file')}`,
    lead:
      `The backup of ${sourceWhere(n)} on ${n.host} finished at ${time(n.at)} without ` +
      `${plural(n.details?.skippedFiles ?? 0, 'file')} it could not read; they are not in the snapshot. ` +
      `Backups have skipped files since ${time(n.since)}.`,
  }),
  'backup-overdue': (n) => ({
    title: `No backup of ${sourceName(n)} on ${n.host} for ${duration(n.at.getTime() - n.since.getTime())}`,
    lead:
      `The source ${sourceWhere(n)} on ${n.host} has had no successful backup since ${time(n.since)} ` +
      `(${ago(n)}; its RPO is ${duration((n.details?.rpoSeconds ?? 0) * 1000)}).`,
  }),
  'storage-unreachable': (n) => ({
    title: `Storage unreachable from ${n.host} for ${duration(n.at.getTime() - n.since.getTime())}`,
    lead:
      `The repository ${n.subject.location ?? n.subject.name} has failed to answer ${n.host} since ` +
      `${time(n.since)} (${ago(n)}). Backups keep their changes and are retried.`,
  }),
  'replication-lag': (n) => ({
    title: `Replica ${n.subject.name} is ${duration((n.details?.lagSeconds ?? 0) * 1000)} behind`,
    lead:
      `The replica ${n.subject.location ?? n.subject.name} has been missing snapshots since ${time(n.since)} ` +
      `(${ago(n)}; the limit is ${duration((n.details?.limitSeconds ?? 0) * 1000)}).`,
  }),
  'verify-problems': (n) => ({
    title: n.details?.problems
      ? `Verify found ${plural(n.details.problems, 'problem')} in the repository of ${n.host}`
      : `Verify of the repository of ${n.host} could not run`,
    lead: n.details?.problems
      ? `The integrity check of ${n.subject.location ?? n.subject.name} at ${time(n.at)} found ` +
        `${plural(n.details.problems, 'problem')} (first seen ${time(n.since)}).`
      : `The integrity check of ${n.subject.location ?? n.subject.name} could not run at ${time(n.at)}.`,
  }),
  test: (n) => ({
    title: `Test notification from twinvault on ${n.host}`,
    lead:
      `This is a test of the channel "${n.details?.channel ?? '?'}", sent by \`twinvault notify test\` ` +
      `on ${n.host} at ${time(n.at)}. Nothing is wrong.`,
  }),
};

const RECOVERED: Record<Notice['event'], Render> = {
  'backup-failed': (n) => ({
    title: `Backup of ${sourceName(n)} on ${n.host} works again`,
    lead: `The backup of ${sourceWhere(n)} on ${n.host} succeeded at ${time(n.at)}, ${after(n, 'failing')}.`,
  }),
  'backup-partial': (n) => ({
    title: `Backup of ${sourceName(n)} on ${n.host} no longer skips files`,
    lead: `The backup of ${sourceWhere(n)} on ${n.host} read every file at ${time(n.at)}, ${after(n, 'skipping files')}.`,
  }),
  'backup-overdue': (n) => ({
    title: `Backup of ${sourceName(n)} on ${n.host} is current again`,
    lead: `The source ${sourceWhere(n)} on ${n.host} was backed up at ${time(n.at)}; the last backup before was at ${time(n.since)}.`,
  }),
  'storage-unreachable': (n) => ({
    title: `Storage reachable again from ${n.host}`,
    lead: `The repository ${n.subject.location ?? n.subject.name} answers ${n.host} again since ${time(n.at)}, ${after(n, 'failing')}.`,
  }),
  'replication-lag': (n) => ({
    title: `Replica ${n.subject.name} is up to date again`,
    lead: `The replica ${n.subject.location ?? n.subject.name} caught up at ${time(n.at)}, ${after(n, 'lagging')}.`,
  }),
  'verify-problems': (n) => ({
    title: `Verify finds the repository of ${n.host} healthy again`,
    lead: `The integrity check of ${n.subject.location ?? n.subject.name} at ${time(n.at)} found no problem, ${after(n, 'reporting problems')}.`,
  }),
  test: PROBLEMS.test,
};

function detailLines(notice: Notice): string[] {
  const d = notice.details ?? {};
  const lines: string[] = [];
  if (notice.state === 'recovered') {
    if (d.snapshot) lines.push(`Snapshot: ${d.snapshot}`);
    return lines;
  }
  if (d.failedAttempts !== undefined) lines.push(`Failed attempts: ${d.failedAttempts}`);
  if (d.nextAttempt) lines.push(`Next attempt: ${time(new Date(d.nextAttempt))}`);
  if (d.lastSuccess) lines.push(`Last successful backup: ${time(new Date(d.lastSuccess))}`);
  if (d.snapshot) lines.push(`Snapshot: ${d.snapshot}`);
  if (d.firstSkipped?.length) lines.push('Skipped:', ...d.firstSkipped.map((line) => `  ${line}`));
  if (d.firstProblems?.length) lines.push('Problems:', ...d.firstProblems.map((line) => `  ${line}`));
  return lines;
}

function sourceName(notice: Notice): string {
  return `"${notice.subject.name}"`;
}

function sourceWhere(notice: Notice): string {
  return notice.subject.location
    ? `"${notice.subject.name}" (${notice.subject.location})`
    : `"${notice.subject.name}"`;
}

function ago(notice: Notice): string {
  return `${duration(notice.at.getTime() - notice.since.getTime())} ago`;
}

function after(notice: Notice, what: string): string {
  return `after ${what} since ${time(notice.since)} (${duration(notice.at.getTime() - notice.since.getTime())})`;
}

/** "2026-11-26 14:03 UTC": minutes are enough, and UTC reads the same on every machine. */
export function time(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
