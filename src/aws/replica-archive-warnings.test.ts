import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../backend/body.js';
import { LocalBackend } from '../backend/local/local-backend.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/load.js';
import { initRepository } from '../repository/repository.js';
import { replicaArchiveWarnings } from './replica-archive-warnings.js';

const DAY = 86_400_000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-archive-warnings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A local repository holding one object written 40 days ago. */
async function repository() {
  await mkdir(join(dir, 'repo'));
  const backend = new LocalBackend(join(dir, 'repo'), { fsync: false });
  await initRepository(backend, { clock: systemClock });
  await backend.put('laptop/20260101_000000/old.txt', bodyFromBuffer('old'));
  const old = new Date(Date.now() - 40 * DAY);
  await utimes(join(dir, 'repo', 'laptop', '20260101_000000', 'old.txt'), old, old);
  return { backend, url: pathToFileURL(join(dir, 'repo')).href };
}

/** The config of that repository with these replicas. */
async function configWith(url: string, replicas: string[]) {
  await writeFile(
    join(dir, 'twinvault.json'),
    JSON.stringify({ repository: { url }, replicas: replicas.map((replica) => ({ url: replica })) }),
  );
  return loadConfig({ cwd: dir, env: {} });
}

describe('replicaArchiveWarnings (lifecycle, before an archive rule)', () => {
  it('warns that no replica is configured (the repository itself named as one does not count)', async () => {
    const { backend, url } = await repository();
    const config = await configWith(url, []);
    const expected = {
      warnings: [expect.stringMatching(/^no replica is configured: content archived after 45 days/)],
      checked: 0,
    };
    const now = new Date();
    expect(await replicaArchiveWarnings({ backend, config, archiveDay: 45, applying: true, now })).toEqual(
      expected,
    );
    const itself = await configWith(url, [`${url}/`]);
    expect(
      await replicaArchiveWarnings({ backend, config: itself, archiveDay: 45, applying: true, now }),
    ).toEqual(expected);
  });

  it('a replica lacking what the rule archives within a week stops --apply and is a warning for --print', async () => {
    const replica = pathToFileURL(join(dir, 'replica')).href;
    const { backend, url } = await repository();
    const config = await configWith(url, [replica]);
    const now = new Date();
    const printing = await replicaArchiveWarnings({ backend, config, archiveDay: 45, applying: false, now });
    expect(printing.checked).toBe(1);
    expect(printing.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the replica ${replica} lacks \\d+ object\\(s\\), .*: the rule would archive it within 7 days`,
        ),
      ),
    ]);
    await expect(
      replicaArchiveWarnings({ backend, config, archiveDay: 45, applying: true, now }),
    ).rejects.toMatchObject({ code: 'USAGE', hint: 'run "twinvault replicate" first, then apply the rule' });
    // Archived after 90 days: seven weeks to copy it, which a working replica does in minutes.
    expect(await replicaArchiveWarnings({ backend, config, archiveDay: 90, applying: true, now })).toEqual({
      warnings: [],
      checked: 1,
    });
  });
});
