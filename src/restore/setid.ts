import type { Entry } from '../repository/manifest.js';

const SET_ID_BITS = 0o6000;

/**
 * Takes set-user-id and set-group-id bits off the entries' modes, so a restore does not create
 * programs that run with their owner's rights unless asked (--keep-setid): as root, where owners
 * are kept as tar and rsync keep them, a manifest (a hostile one, or an old snapshot of a binary
 * with a known hole) would otherwise plant a set-uid root program. The sticky bit stays.
 * Returns the paths whose mode changed, for the summary.
 */
export function clearSetIdBits(entries: Entry[]): string[] {
  const cleared: string[] = [];
  for (const entry of entries) {
    if (entry.type === 'symlink' || (entry.mode & SET_ID_BITS) === 0) continue;
    entry.mode &= ~SET_ID_BITS;
    cleared.push(entry.path);
  }
  return cleared;
}
