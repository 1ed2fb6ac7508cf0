/**
 * What a restore does with a file (or symlink) already standing where it restores one.
 *
 * - `never`: leave every existing file alone;
 * - `keep-newer` (the default): skip identical files, keep a local file that is newer than the
 *   snapshot's version (it may hold work done since the backup: it is listed and the restore
 *   ends partial), replace the others;
 * - `if-changed`: replace every file that differs, newer or not;
 * - `always`: replace every file, identical ones too.
 *
 * Keeping is the safe side: the snapshot's version stays in the repository, while a local file
 * replaced by mistake is gone. "Newer" is by modification time, later than the snapshot's by more
 * than TIME_SLACK_NS; a file of the same age with other content (damaged since, or edited with its
 * time preserved) is replaced, so a restore can repair what it restored before.
 */
export type OverwriteMode = 'never' | 'keep-newer' | 'if-changed' | 'always';

export const OVERWRITE_MODES: readonly OverwriteMode[] = ['never', 'keep-newer', 'if-changed', 'always'];
export const DEFAULT_OVERWRITE: OverwriteMode = 'keep-newer';

/** What happens to an existing local file. */
export type ExistingAction = 'replace' | 'skip-existing' | 'skip-identical' | 'keep-newer';

/**
 * Times are set back through utimes(), in seconds as a double: about 2^-22 s (240 ns) of rounding
 * today. A file restored from this very snapshot must never count as newer than it.
 */
const TIME_SLACK_NS = 1000n;

export interface OverwriteQuestion {
  mode: OverwriteMode;
  /** The local file's modification time (lstat), in nanoseconds. */
  localMtimeNs: bigint;
  /** The snapshot's version's, in nanoseconds (as manifests store it). */
  snapshotMtimeNs: bigint;
  /** Whether the local file already holds the snapshot's content; asked only when it matters. */
  sameContent: () => Promise<boolean>;
}

export async function decideOverwrite(question: OverwriteQuestion): Promise<ExistingAction> {
  switch (question.mode) {
    case 'never':
      return 'skip-existing';
    case 'always':
      return 'replace';
    case 'if-changed':
      return (await question.sameContent()) ? 'skip-identical' : 'replace';
    case 'keep-newer':
      if (await question.sameContent()) return 'skip-identical';
      return isNewer(question.localMtimeNs, question.snapshotMtimeNs) ? 'keep-newer' : 'replace';
  }
}

export function isNewer(localMtimeNs: bigint, snapshotMtimeNs: bigint): boolean {
  return localMtimeNs > snapshotMtimeNs + TIME_SLACK_NS;
}
