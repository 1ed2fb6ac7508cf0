import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { restoreCommandFor } from './restore-hint.js';

/** The words a POSIX shell makes of a command line. */
function shellWords(command: string): string[] {
  const result = spawnSync('sh', ['-c', `set -- ${command}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return result.stdout.split('\0').slice(0, -1);
}

describe('the command a restore hint gives, to run against a replica', () => {
  it('keeps --host and every other flag the user gave, quoted for the shell', () => {
    const command = restoreCommandFor(
      's3://offsite/laptop',
      { config: '/etc/twin vault.json', json: true, verbose: true },
      {
        target: "/home/me/it's here",
        include: ['Documents/taxes 2024', 'photos/$HOME'],
        overwrite: 'always',
        host: 'laptop',
        dryRun: true,
        keepSetid: true,
      },
      ['latest'],
      'keep-newer',
    );
    expect(shellWords(command)).toEqual([
      'twinvault',
      '--config',
      '/etc/twin vault.json',
      '--repo',
      's3://offsite/laptop',
      '--json',
      '--verbose',
      'restore',
      'latest',
      '--target',
      "/home/me/it's here",
      '--include',
      'Documents/taxes 2024',
      '--include',
      'photos/$HOME',
      '--overwrite',
      'always',
      '--host',
      'laptop',
      '--dry-run',
      '--keep-setid',
    ]);
  });

  it('leaves out what was not given, and the default overwrite mode', () => {
    expect(
      restoreCommandFor(
        's3://b/p',
        {},
        { target: '/tmp/r', include: [], overwrite: 'keep-newer' },
        ['3fa2'],
        'keep-newer',
      ),
    ).toBe('twinvault --repo s3://b/p restore 3fa2 --target /tmp/r');
  });
});
