import { homedir } from 'node:os';
import { join } from 'node:path';
import envPaths from 'env-paths';

/** Computed on each call, so XDG_CONFIG_HOME and friends set at run time are honoured. */
const paths = () => envPaths('twinvault', { suffix: '' });

/** The user's config file: ~/.config/twinvault/config.json on Linux, the platform's equivalent elsewhere. */
export function userConfigFile(): string {
  return join(paths().config, 'config.json');
}

/** twinvault's data folder: ~/.local/share/twinvault on Linux. */
export function dataFolder(): string {
  return paths().data;
}

/** Where the embedded default repository lives when none is configured. */
export function defaultRepositoryFolder(): string {
  return join(dataFolder(), 'repository');
}

export const LOCAL_CONFIG_FILE = 'twinvault.json';

/**
 * The user's state folder, home of the local index: $XDG_STATE_HOME/twinvault (~/.local/state)
 * on Linux, Application Support on macOS, %LOCALAPPDATA% on Windows.
 */
export function stateFolder(): string {
  if (process.env.TWINVAULT_STATE_DIR) return process.env.TWINVAULT_STATE_DIR;
  if (process.platform === 'linux') {
    return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'twinvault');
  }
  return join(paths().data, 'state');
}
