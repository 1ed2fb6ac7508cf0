import { opendir, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LocalPathError } from '../errors.js';
import { reason } from './scan/walker.js';

/** A source root as the run found it at its start. */
export interface SourceFolderIdentity {
  path: string;
  /** Device and inode: a different folder at the end means it was swapped (an unmount). */
  dev: number;
  ino: number;
  /** It held no entry at all. */
  empty: boolean;
  /** It lies on another device than its parent folder: a disk (or share) is mounted there. */
  mountPoint: boolean;
}

/**
 * What the snapshot a source builds on said of it: how many files it held there, and whether its
 * root was a mount point then (recorded in the manifest's `sources`, docs/FORMAT.md).
 */
export interface LastSnapshotOfSource {
  /** `<host>/<stamp>`, for the message. */
  name: string;
  files: number;
  mountPoint: boolean;
}

/**
 * The rule for the CLI and the agent alike (DESIGN invariant 8): a source that is missing, is not
 * a folder, or cannot be listed (an unmounted disk, a typo, a file given as source, no permission)
 * fails the run before anything is written. Backing it up as an empty folder would give a snapshot
 * with nothing in it, which retention counts like any other and which can push the last real
 * snapshot out. Every source is checked, and all the bad ones are named in one error. A source
 * that is there but emptied is judged against its last snapshot, once that is known
 * (checkSourcesNotEmptied).
 */
export async function checkSourceFolders(paths: string[]): Promise<SourceFolderIdentity[]> {
  const results = await Promise.all(paths.map((path) => checkOne(path)));
  const problems = results.filter((result) => typeof result === 'string');
  if (problems.length > 0) {
    throw new LocalPathError(problems.join('; '), {
      hint: 'check that it exists and is readable by the user twinvault runs as (a disk that is not mounted?); no snapshot was written',
    });
  }
  return results as SourceFolderIdentity[];
}

/**
 * The same rule where the folder is there but what it held is not: most often a disk that is not
 * mounted, whose mount point is an empty folder (or, with a marker file in it, at least no longer
 * a mount point). A source whose root is empty, or that the scan found nothing in to keep, while
 * its last snapshot held files, fails the run; so does a root that was a mount point in its last
 * snapshot and no longer is. A source whose last snapshot held no files, or that has no last
 * snapshot, is backed up as it is; so is one allowed to be empty (`allowEmpty`, `--allow-empty`),
 * after which its empty snapshot is the one the next runs compare with.
 */
export function checkSourcesNotEmptied(
  sources: Array<{
    path: string;
    /** What the run found: empty, or no longer a mount point. */
    now: Pick<SourceFolderIdentity, 'empty' | 'mountPoint'>;
    last: LastSnapshotOfSource | undefined;
    allowEmpty: boolean;
  }>,
): void {
  const problems: string[] = [];
  for (const { path, now, last, allowEmpty } of sources) {
    if (!last || allowEmpty) continue;
    const held = `its last snapshot (${last.name}) held ${plural(last.files, 'file')}`;
    if (last.mountPoint && !now.mountPoint)
      problems.push(
        `the source folder ${path} is no longer a mount point, but ${held} of a disk mounted there`,
      );
    else if (now.empty && last.files > 0) problems.push(`the source folder ${path} is empty, but ${held}`);
  }
  if (problems.length > 0) throw emptiedError(problems);
}

/** After a full scan: a source the scan kept nothing of is as empty as one with nothing in it. */
export function emptiedByRulesError(path: string, last: LastSnapshotOfSource): LocalPathError {
  return emptiedError([
    `nothing in the source folder ${path} is backed up (it holds only what its include and exclude rules leave out), but its last snapshot (${last.name}) held ${plural(last.files, 'file')}`,
  ]);
}

function emptiedError(problems: string[]): LocalPathError {
  return new LocalPathError(problems.join('; '), {
    hint:
      'is a disk not mounted? Mount it and run the backup again. If the folder was emptied on purpose, ' +
      'back it up once with `twinvault backup --allow-empty` (or set "allowEmpty": true on the source in the config); ' +
      'no snapshot was written',
  });
}

/**
 * After the scan: each root must still be the folder it was at the start (same device and inode).
 * A root deleted, or unmounted so that its path now shows the empty mount point, fails the run.
 */
export async function checkSourcesUnchanged(before: SourceFolderIdentity[]): Promise<void> {
  const problems: string[] = [];
  for (const folder of before) {
    const now = await checkOne(folder.path);
    if (typeof now === 'string') problems.push(`${now} (it was there when the backup started)`);
    else if (now.dev !== folder.dev || now.ino !== folder.ino)
      problems.push(`the source folder ${folder.path} was replaced while it was scanned (a disk unmounted?)`);
  }
  if (problems.length > 0) {
    throw new LocalPathError(problems.join('; '), {
      hint: 'run the backup again once the source is back; no snapshot was written',
    });
  }
}

async function checkOne(path: string): Promise<SourceFolderIdentity | string> {
  try {
    // The root may be a symlink the user pointed at: followed, as the scan does.
    const info = await stat(path);
    if (!info.isDirectory()) return `the source ${path} is not a folder`;
    const folder = await opendir(path);
    let empty: boolean;
    try {
      empty = (await folder.read()) === null;
    } finally {
      await folder.close();
    }
    return { path, dev: info.dev, ino: info.ino, empty, mountPoint: await isMountPoint(path, info.dev) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return `the source ${path} is not a folder`;
    if (code === 'ENOENT') return `the source folder ${path} does not exist`;
    return `cannot read the source folder ${path}: ${reason(err)}`;
  }
}

/** Whether the folder (symlinks resolved) is on another device than the folder holding it. */
async function isMountPoint(path: string, dev: number): Promise<boolean> {
  try {
    const real = await realpath(path);
    const up = dirname(real);
    return up !== real && (await stat(up)).dev !== dev;
  } catch {
    return false; // cannot tell: no mount point is recorded, so none can be found missing later
  }
}

function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
