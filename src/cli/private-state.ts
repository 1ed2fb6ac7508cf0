import { dataFolder, stateFolder } from '../config/paths.js';
import { closeFolderToOthers } from '../fs/private-files.js';

/**
 * Closes to other users what older versions left open (0755 folders, 0644 files) in twinvault's
 * own folders, at every start of the CLI or the agent (DESIGN invariant 9; new files are made
 * private anyway). Two levels of the state folder (the manifest caches' folders, the agent's pid,
 * state, log and alert files, replication records) and the data folder with the default
 * repository's root: a few dozen system calls. The manifests inside the caches are not visited:
 * they sit in folders now closed, which keeps everyone else out whatever their own modes.
 */
export async function closeOwnFoldersToOthers(): Promise<void> {
  await closeFolderToOthers(stateFolder(), 2);
  await closeFolderToOthers(dataFolder(), 1);
}
