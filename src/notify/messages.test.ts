import { describe, expect, it } from 'vitest';
import { ALERT_EVENTS } from '../config/notifications-schema.js';
import { slackBody } from './channels/slack.js';
import { snsSubject } from './channels/sns.js';
import { webhookBody } from './channels/webhook.js';
import { duration, renderNotice } from './messages.js';
import type { Notice } from './notice.js';

const since = new Date('2026-11-26T09:12:40Z');
const at = new Date('2026-11-26T12:40:05Z');
const source = { kind: 'source', name: 'Documents', location: '/home/ann/Documents' } as const;
const repository = {
  kind: 'repository',
  name: 'repository',
  location: 's3://ann-backups/twinvault',
} as const;
const replica = { kind: 'replica', name: 's3://ann-replica/tv', location: 's3://ann-replica/tv' } as const;

/** One problem of each kind, as the agent raises it. */
const PROBLEMS: Record<(typeof ALERT_EVENTS)[number], Notice> = {
  'backup-failed': {
    event: 'backup-failed',
    state: 'problem',
    host: 'laptop',
    subject: source,
    since,
    at,
    error: 'cannot read /home/ann/Documents: permission denied (EACCES)',
    next: 'The agent retries by itself; to see the error first hand run `twinvault backup /home/ann/Documents`.',
    details: { failedAttempts: 7, nextAttempt: '2026-11-26T12:45:05Z' },
  },
  'backup-partial': {
    event: 'backup-partial',
    state: 'problem',
    host: 'laptop',
    subject: source,
    since,
    at,
    error: 'taxes/2025.pdf: permission denied',
    next: 'make the files readable by the user the agent runs as, or exclude them (sources[].exclude)',
    details: {
      skippedFiles: 2,
      firstSkipped: ['taxes/2025.pdf: permission denied', 'vm.img: changed while being read'],
      snapshot: 'laptop/20261126_124000',
    },
  },
  'backup-overdue': {
    event: 'backup-overdue',
    state: 'problem',
    host: 'laptop',
    subject: source,
    since,
    at,
    error: 'the store did not answer within 30 s',
    next: 'check that the agent runs and what it says: `twinvault status`',
    details: { rpoSeconds: 7200 },
  },
  'storage-unreachable': {
    event: 'storage-unreachable',
    state: 'problem',
    host: 'laptop',
    subject: repository,
    since,
    at,
    error: 'cannot reach s3.eu-west-1.amazonaws.com: ENOTFOUND',
    next: 'check the network, the endpoint and the credentials',
  },
  'replication-lag': {
    event: 'replication-lag',
    state: 'problem',
    host: 'laptop',
    subject: replica,
    since,
    at,
    error: 'access denied writing to s3://ann-replica/tv',
    next: 'see what is missing with `twinvault replicas`',
    details: { lagSeconds: 12_445, limitSeconds: 7200 },
  },
  'verify-problems': {
    event: 'verify-problems',
    state: 'problem',
    host: 'laptop',
    subject: repository,
    since,
    at,
    error: 'corrupt: laptop/20261120_101500/Documents/a.txt SHA-256 does not match',
    next: 'run `twinvault verify`; `twinvault repair --from REPLICA_URL` mends them from a replica',
    details: {
      problems: 2,
      firstProblems: [
        'corrupt: laptop/20261120_101500/Documents/a.txt SHA-256 does not match',
        'missing: laptop/20261120_101500/Documents/b.txt',
      ],
    },
  },
};

function recoveryOf(problem: Notice): Notice {
  const { error: _e, next: _n, details: _d, ...rest } = problem;
  return {
    ...rest,
    state: 'recovered',
    ...(problem.subject.kind === 'source' ? { details: { snapshot: 'laptop/20261126_124000' } } : {}),
  };
}

const TEST_NOTICE: Notice = {
  event: 'test',
  state: 'test',
  host: 'laptop',
  subject: { kind: 'repository', name: 'test' },
  since: at,
  at,
  details: { channel: 'team-chat' },
};

/** Every message in one file per event: the text people read, then what each channel sends. */
function golden(notice: Notice): string {
  const message = renderNotice(notice);
  return [
    `# ${notice.event} ${notice.state}`,
    `title: ${message.title}`,
    '',
    message.text,
    '',
    `sns subject: ${snsSubject(message.title)}`,
    `slack: ${JSON.stringify(slackBody(notice))}`,
    `webhook: ${JSON.stringify(webhookBody(notice), null, 2)}`,
    '',
  ].join('\n');
}

describe('notification messages (golden files in test/golden/notify)', () => {
  for (const event of ALERT_EVENTS) {
    it(`${event}: the problem and its recovery`, async () => {
      const problem = PROBLEMS[event];
      await expect(`${golden(problem)}\n${golden(recoveryOf(problem))}`).toMatchFileSnapshot(
        `../../test/golden/notify/${event}.txt`,
      );
    });
  }

  it('test message', async () => {
    await expect(golden(TEST_NOTICE)).toMatchFileSnapshot('../../test/golden/notify/test.txt');
  });

  it('says what, where, since when, the last error and what to run next', () => {
    for (const problem of Object.values(PROBLEMS)) {
      const { title, text } = renderNotice(problem);
      expect(title).toContain(problem.subject.kind === 'source' ? 'Documents' : '');
      expect(text).toContain('2026-11-26 09:12 UTC');
      expect(text).toContain(`Last error: ${problem.error}`);
      expect(text).toContain(`What to do: ${problem.next}`);
    }
  });

  it('keeps SNS subjects within 100 printable ASCII characters', () => {
    const subject = snsSubject(`Backup of "${'Ü'.repeat(150)}" failed`);
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('writes durations people read at a glance', () => {
    expect([45_000, 12 * 60_000, 3 * 3_600_000 + 5 * 60_000, 52 * 3_600_000].map(duration)).toEqual([
      '45 s',
      '12 min',
      '3 h 5 min',
      '2 d 4 h',
    ]);
  });
});
