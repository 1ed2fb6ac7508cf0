import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { ManualClock } from '../clock.js';
import { initRepository, type Repository } from '../repository/repository.js';
import { backup } from './backup.js';

let dir: string;
let source: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-future-parent-'));
  source = join(dir, 'Documents');
  await mkdir(source);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function backupAt(repository: Repository, time: number, state: string) {
  return backup({
    repository,
    sources: [{ path: source }],
    host: 'laptop',
    stateFolder: state,
    clock: new ManualClock(new Date(time)),
  });
}

describe('a snapshot dated after the backup starts (a clock that was ahead, or a forgery)', () => {
  it('is not the parent while an earlier snapshot holds the source', async () => {
    await writeFile(join(source, 'notes.txt'), 'notes');
    const now = Date.now() + HOUR;
    const repository = await initRepository(new MemoryBackend(), { clock: new ManualClock(new Date(now)) });
    const state = join(dir, 'state');
    const earlier = await backupAt(repository, now, state);
    await writeFile(join(source, 'later.txt'), 'later');
    const future = await backupAt(repository, now + 30 * DAY, state);
    expect(future.parent).toBe(earlier.id);

    await writeFile(join(source, 'today.txt'), 'today');
    const today = await backupAt(repository, now + DAY, state);
    expect(today.parent).toBe(earlier.id);
    // Compared with the real last state: notes.txt unchanged, later.txt and today.txt new.
    expect(today.files).toMatchObject({ unchanged: 1, new: 2 });
  });

  it('is the parent when no earlier one holds the source (a clock set back): files are not read again', async () => {
    await writeFile(join(source, 'notes.txt'), 'notes');
    const now = Date.now() + HOUR;
    const repository = await initRepository(new MemoryBackend(), { clock: new ManualClock(new Date(now)) });
    const state = join(dir, 'state');
    const ahead = await backupAt(repository, now + 30 * DAY, state);
    const setBack = await backupAt(repository, now + DAY, state);
    expect(setBack.parent).toBe(ahead.id);
    expect(setBack.files).toMatchObject({ unchanged: 1, new: 0 });
  });
});
