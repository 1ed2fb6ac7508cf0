import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Test servers are built once per machine and kept outside the clone, so later runs reuse them. */
export function cacheDir(name: string): string {
  const base =
    process.env.TWINVAULT_TEST_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'twinvault');
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
