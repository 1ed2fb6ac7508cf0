import { join } from 'node:path';
import envPaths from 'env-paths';

/** Computed on each call, so XDG_CONFIG_HOME and friends set at run time are honoured. */
const paths = () => envPaths('twinvault', { suffix: '' });

/** The user's config file: ~/.config/twinvault/config.json on Linux, the platform's equivalent elsewhere. */
export function userConfigFile(): string {
  return join(paths().config, 'config.json');
}

/** Where the embedded default repository lives when none is configured. */
export function defaultRepositoryFolder(): string {
  return join(paths().data, 'repository');
}

export const LOCAL_CONFIG_FILE = 'twinvault.json';
