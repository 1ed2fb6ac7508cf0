import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ALERT_EVENTS, type AlertEvent } from '../config/notifications-schema.js';
import { redactUrlPassword } from '../config/redact.js';
import { writeJsonFile } from '../util/json-file.js';
import type { Notice, NoticeDetails, NoticeSubject } from './notice.js';
import type { Notifier } from './notifier.js';

export interface Raised {
  event: AlertEvent;
  subject: NoticeSubject;
  since: string;
}

interface BookFile {
  version: 1;
  raised: Record<string, Raised>;
  /** When a condition began (a source's last success, storage failing since...). */
  marks: Record<string, string>;
}

export type ProblemNotice = Omit<Notice, 'state' | 'host'> & { event: AlertEvent };

/**
 * Which problems are raised, so each is told once and its recovery once, however often the
 * agent sees it again (every retry, every check). Kept in a file beside the agent's state, so a
 * restart neither repeats a problem nor forgets to say it is over.
 */
export class AlertBook {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly data: BookFile,
    private readonly notifier: Notifier,
    private readonly host: () => string,
    private readonly log: Logger,
    private readonly file: string | undefined,
  ) {}

  /** The book saved in `file` (none yet, or unreadable: an empty one, said in the log). */
  static async open(notifier: Notifier, host: () => string, log: Logger, file?: string): Promise<AlertBook> {
    let data: BookFile = { version: 1, raised: {}, marks: {} };
    if (file) {
      try {
        data = validBook(JSON.parse(await readFile(file, 'utf8')));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          log.warn(
            { file, err: (err as Error).message },
            'cannot read the alerts file; starting with none raised',
          );
      }
    }
    return new AlertBook(data, notifier, host, log, file);
  }

  /** The alerts raised in a book's file, for `twinvault status` (none when there is no file). */
  static async readRaised(file: string): Promise<Raised[]> {
    try {
      return Object.values(validBook(JSON.parse(await readFile(file, 'utf8'))).raised);
    } catch {
      return [];
    }
  }

  /** Tells the channels, unless this problem is raised already; true when it was told now. */
  raise(problem: ProblemNotice): boolean {
    const key = keyOf(problem.event, problem.subject);
    if (this.data.raised[key]) return false;
    this.data.raised[key] = {
      event: problem.event,
      subject: problem.subject,
      since: problem.since.toISOString(),
    };
    // Error texts come from stores and replicas: a URL in them may carry a password.
    const notice: Notice = {
      ...problem,
      state: 'problem',
      host: this.host(),
      error: problem.error === undefined ? undefined : redactUrlPassword(problem.error),
    };
    this.log.warn(
      { alert: problem.event, subject: problem.subject.name, error: notice.error },
      'alert raised',
    );
    this.notifier.notify(notice);
    this.save();
    return true;
  }

  /** Forgets a raised problem without telling anyone (its source or replica is no longer configured). */
  drop(event: AlertEvent, subject: NoticeSubject): void {
    const key = keyOf(event, subject);
    if (!this.data.raised[key]) return;
    delete this.data.raised[key];
    this.log.info({ alert: event, subject: subject.name }, 'alert dropped: no longer configured');
    this.save();
  }

  /** Tells the channels the problem is over, if it was raised. */
  resolve(event: AlertEvent, subject: NoticeSubject, at: Date, details?: NoticeDetails): void {
    const key = keyOf(event, subject);
    const raised = this.data.raised[key];
    if (!raised) return;
    delete this.data.raised[key];
    this.log.info({ alert: event, subject: subject.name }, 'alert resolved');
    this.notifier.notify({
      event,
      state: 'recovered',
      host: this.host(),
      subject: { ...raised.subject, ...subject },
      since: new Date(raised.since),
      at,
      ...(details ? { details } : {}),
    });
    this.save();
  }

  isRaised(event: AlertEvent, subject: NoticeSubject): boolean {
    return this.data.raised[keyOf(event, subject)] !== undefined;
  }

  /** Every raised alert of one event (to resolve those whose subject is gone). */
  raisedOf(event: AlertEvent): NoticeSubject[] {
    return Object.values(this.data.raised)
      .filter((raised) => raised.event === event)
      .map((raised) => raised.subject);
  }

  /** When the named condition began; the first time is kept unless `replace`. */
  mark(name: string, at: Date, replace = false): Date {
    const current = this.data.marks[name];
    if (current === undefined || replace) {
      this.data.marks[name] = at.toISOString();
      this.save();
      return at;
    }
    return new Date(current);
  }

  /**
   * Forgets what concerns subjects no longer configured: the raised `events` of other subjects
   * of `kind`, and the marks `markPrefix` + a name not among `names`.
   */
  forgetAllBut(
    names: ReadonlySet<string>,
    events: readonly AlertEvent[],
    kind: NoticeSubject['kind'],
    markPrefix: string,
  ): void {
    for (const event of events)
      for (const subject of this.raisedOf(event))
        if (subject.kind === kind && !names.has(subject.name)) this.drop(event, subject);
    for (const mark of this.marksStartingWith(markPrefix))
      if (!names.has(mark.slice(markPrefix.length))) this.clearMark(mark);
  }

  /** The names of the marks starting with `prefix`. */
  marksStartingWith(prefix: string): string[] {
    return Object.keys(this.data.marks).filter((name) => name.startsWith(prefix));
  }

  markOf(name: string): Date | undefined {
    const value = this.data.marks[name];
    return value === undefined ? undefined : new Date(value);
  }

  clearMark(name: string): void {
    if (this.data.marks[name] === undefined) return;
    delete this.data.marks[name];
    this.save();
  }

  /** Resolves once the file is written. */
  async flushed(): Promise<void> {
    await this.writes;
  }

  private save(): void {
    const file = this.file;
    if (!file) return;
    this.writes = this.writes.then(() =>
      writeJsonFile(file, this.data).catch((err: unknown) => {
        this.log.warn({ file, err: (err as Error).message }, 'cannot write the alerts file');
      }),
    );
  }
}

/** A book as read from disk, with every entry that is not well-formed left out. */
function validBook(parsed: unknown): BookFile {
  const book = parsed as Partial<BookFile> | null;
  const isDate = (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value));
  const raised = Object.entries(book?.raised ?? {}).filter(
    ([, r]) => r && ALERT_EVENTS.includes(r.event) && typeof r.subject?.name === 'string' && isDate(r.since),
  );
  const marks = Object.entries(book?.marks ?? {}).filter(([, at]) => isDate(at));
  return { version: 1, raised: Object.fromEntries(raised), marks: Object.fromEntries(marks) };
}

function keyOf(event: AlertEvent, subject: NoticeSubject): string {
  return `${event}|${subject.kind}|${subject.name}`;
}
