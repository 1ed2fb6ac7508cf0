import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { closeFolderToOthers, closeToOthers } from '../../fs/private-files.js';

/** The repository's own folders in its root (repository/layout.ts and local-backend.ts name them). */
const METADATA_FOLDER = '.twinvault';
const SNAPSHOTS_FOLDER = join(METADATA_FOLDER, 'snapshots');
const TEMP_FOLDER = '.twinvault-tmp';

/**
 * Closes to other users a repository that an older version wrote with 0755 folders and 0644
 * files (DESIGN invariant 9): `.twinvault/` with what lies two levels into it (config, the
 * snapshot and lock folders, the per-host manifest folders), the temporary folder, and each
 * host's content folder. A closed folder keeps everyone else out of all below it, so the objects
 * inside need not be visited: a few system calls, not a walk of the whole repository. The root
 * keeps its mode (it may be a folder the user shares with other things); folders in it that are
 * not the repository's are left alone. Anything that cannot be changed (another owner, a
 * read-only disk) stays as it is: reading a repository never depends on this.
 */
export async function closeRepositoryToOthers(root: string): Promise<void> {
  await closeFolderToOthers(join(root, METADATA_FOLDER), 2);
  await closeToOthers(join(root, TEMP_FOLDER));
  let hosts: string[] = [];
  try {
    hosts = await readdir(join(root, SNAPSHOTS_FOLDER));
  } catch {
    return; // no snapshots yet (or not a repository): nothing else is ours
  }
  for (const host of hosts) await closeToOthers(join(root, host));
}
