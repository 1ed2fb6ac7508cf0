import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { LocalBackend } from '../src/backend/local/local-backend.js';
import { chaosRun } from './chaos/run.js';

/**
 * Damage a repository at random (truncate, delete, swap, corrupt, forge manifests; leave dead
 * locks and leftovers; take a source away) and run backup, forget, prune, verify and restore on
 * it: every file an intact snapshot held stays restorable, and all damage is reported, never a
 * crash. CHAOS_SEEDS=n runs more seeds; a failure names its seed and what was done.
 */
const SEEDS = Number(process.env.CHAOS_SEEDS ?? 12);
const FIRST = Number(process.env.CHAOS_FIRST_SEED ?? 1);

describe('a repository damaged at random', () => {
  for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
    it(`keeps every intact snapshot restorable and reports the damage (seed ${seed})`, {
      timeout: 120_000,
    }, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'twinvault-chaos-repo-'));
      try {
        await chaosRun(seed, new LocalBackend(dir, { fsync: false }), 6);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
