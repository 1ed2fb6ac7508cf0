import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { AlertBook } from './alert-book.js';
import type { Notice } from './notice.js';
import { Notifier } from './notifier.js';

/** A notifier that only records what it is asked to send. */
class RecordingNotifier extends Notifier {
  readonly sent: Notice[] = [];
  constructor() {
    super([], { log: pino({ level: 'silent' }), clock: new ManualClock() });
  }
  override notify(notice: Notice): void {
    this.sent.push(notice);
  }
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const subject = { kind: 'source', name: 'Documents', location: '/home/ann/Documents' } as const;
const problem = (at: string) => ({
  event: 'backup-failed' as const,
  subject,
  since: new Date('2026-11-26T10:00:00Z'),
  at: new Date(at),
  error: 'access denied',
});

describe('the alert book', () => {
  it('tells a problem once and its recovery once, across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinvault-book-'));
    const file = join(dir, 'alerts.json');
    const log = pino({ level: 'silent' });
    const first = new RecordingNotifier();
    const book = await AlertBook.open(first, () => 'laptop', log, file);
    book.raise(problem('2026-11-26T10:00:00Z'));
    book.raise(problem('2026-11-26T10:01:00Z'));
    book.resolve('backup-overdue', subject, new Date()); // never raised: nothing to say
    await book.flushed();
    expect(first.sent.map((n) => `${n.event} ${n.state} ${n.host}`)).toEqual([
      'backup-failed problem laptop',
    ]);

    // The agent restarts while the problem lasts: not told again; the recovery still comes, once.
    const second = new RecordingNotifier();
    const reopened = await AlertBook.open(second, () => 'laptop', log, file);
    reopened.raise(problem('2026-11-26T11:00:00Z'));
    reopened.resolve('backup-failed', subject, new Date('2026-11-26T12:00:00Z'), { snapshot: 'laptop/x' });
    reopened.resolve('backup-failed', subject, new Date('2026-11-26T12:01:00Z'));
    expect(second.sent).toEqual([
      {
        event: 'backup-failed',
        state: 'recovered',
        host: 'laptop',
        subject,
        since: new Date('2026-11-26T10:00:00Z'),
        at: new Date('2026-11-26T12:00:00Z'),
        details: { snapshot: 'laptop/x' },
      },
    ]);
  });

  it('keeps the first time of a mark unless told to replace it', async () => {
    const book = await AlertBook.open(new RecordingNotifier(), () => 'laptop', pino({ level: 'silent' }));
    expect(book.mark('storage', new Date('2026-11-26T10:00:00Z'))).toEqual(new Date('2026-11-26T10:00:00Z'));
    expect(book.mark('storage', new Date('2026-11-26T11:00:00Z'))).toEqual(new Date('2026-11-26T10:00:00Z'));
    book.mark('storage', new Date('2026-11-26T12:00:00Z'), true);
    expect(book.markOf('storage')).toEqual(new Date('2026-11-26T12:00:00Z'));
    book.clearMark('storage');
    expect(book.markOf('storage')).toBeUndefined();
  });

  it('starts empty from a damaged file rather than refusing to run', async () => {
    dir = await mkdtemp(join(tmpdir(), 'twinvault-book-'));
    const file = join(dir, 'alerts.json');
    await writeFile(file, '{ not json');
    const lines: string[] = [];
    const log = pino({}, { write: (line: string) => lines.push(line) });
    const notifier = new RecordingNotifier();
    const book = await AlertBook.open(notifier, () => 'laptop', log, file);
    book.raise(problem('2026-11-26T10:00:00Z'));
    expect(notifier.sent).toHaveLength(1);
    expect(lines.join('')).toContain('cannot read the alerts file');
  });
});
