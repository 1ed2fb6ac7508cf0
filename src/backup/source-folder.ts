import { opendir, stat } from 'node:fs/promises';
import { LocalPathError } from '../errors.js';
import { reason } from './scan/walker.js';

/** Which folder a source root was when the run began: a different one at the end means it was swapped. */
export interface SourceFolderIdentity {
  path: string;
  dev: number;
  ino: number;
}

/**
 * The rule for the CLI and the agent alike (DESIGN invariant 8): a source that is missing, is not
 * a folder, or cannot be listed (an unmounted disk, a typo, a file given as source, no permission)
 * fails the run before anything is written. Backing it up as an empty folder would give a snapshot
 * with nothing in it, which retention counts like any other and which can push the last real
 * snapshot out. Every source is checked, and all the bad ones are named in one error.
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
    await folder.close();
    return { path, dev: info.dev, ino: info.ino };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return `the source ${path} is not a folder`;
    if (code === 'ENOENT') return `the source folder ${path} does not exist`;
    return `cannot read the source folder ${path}: ${reason(err)}`;
  }
}
