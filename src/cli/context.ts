import { hostname } from 'node:os';
import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import { systemClock } from '../clock.js';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { TwinvaultError } from '../errors.js';
import { initRepository, openRepository, type Repository } from '../repository/repository.js';
import type { GlobalOptions } from './output.js';

export interface CommandContext {
  config: ResolvedConfig;
  backend: Backend;
  repository: Repository;
}

export function loadCliConfig(global: GlobalOptions): Promise<ResolvedConfig> {
  return loadConfig({
    ...(global.config ? { configFile: global.config } : {}),
    ...(global.repo ? { repository: global.repo } : {}),
  });
}

/**
 * Opens the configured repository for a command and closes its connections afterwards. With
 * `autoInit`, the built-in default (a local folder) is created on first use and the user is told
 * where it is, so `twinvault backup ~/Documents` works on a fresh machine.
 */
export async function withRepository<T>(
  global: GlobalOptions,
  run: (context: CommandContext) => Promise<T>,
  options: {
    autoInit?: boolean;
    /** Runs once the config is known, before the repository is opened (to start work early). */
    beforeOpen?: (config: ResolvedConfig) => void;
  } = {},
): Promise<T> {
  const config = await loadCliConfig(global);
  options.beforeOpen?.(config);
  const backend = await openBackend(config.repository);
  try {
    let repository: Repository;
    try {
      repository = await openRepository(backend);
    } catch (err) {
      const missing = err instanceof TwinvaultError && err.code === 'NOT_FOUND';
      if (!(missing && options.autoInit && config.repositoryOrigin === 'default')) throw err;
      await backend.create();
      repository = await initRepository(backend, { clock: systemClock });
      if (!global.quiet) {
        process.stderr.write(
          `created the default repository at ${backend.location}\n  (set --repo or "repository" in the config to back up to S3 instead)\n`,
        );
      }
    }
    return await run({ config, backend, repository });
  } finally {
    await backend.close();
  }
}

/** This machine's name in snapshots and notifications: the config's, else the short hostname. */
export function hostOf(config: Pick<ResolvedConfig, 'host'>): string {
  return config.host ?? hostname().split('.')[0]!;
}
