import { stat } from 'node:fs/promises';
import { openBackend } from '../../backend/registry.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { LOCAL_CONFIG_FILE, userConfigFile } from '../../config/paths.js';
import { redact } from '../../config/redact.js';
import { type GlobalOptions, printResult } from '../output.js';

const ORIGIN_TEXT = {
  flag: 'from --repo',
  environment: 'from TWINVAULT_REPOSITORY',
  file: 'from the config file',
  default: 'the built-in default: a folder in your user data folder',
} as const;

export async function run(global: GlobalOptions, options: { connect?: boolean }): Promise<void> {
  const config = await loadConfig({
    ...(global.config ? { configFile: global.config } : {}),
    ...(global.repo ? { repository: global.repo } : {}),
  });
  const warnings = await sourceWarnings(config);
  let reachable: boolean | undefined;
  if (options.connect) {
    const backend = await openBackend(config.repository);
    try {
      await backend.check();
      reachable = true;
    } finally {
      await backend.close();
    }
  }
  const shown = redact(config.repository);
  printResult(
    global,
    { valid: true, ...redact(config), ...(reachable === undefined ? {} : { reachable }), warnings },
    () => [
      `config file: ${config.configFile ?? `none (looked for ./${LOCAL_CONFIG_FILE} and ${userConfigFile()})`}`,
      `repository:  ${shown.url} (${ORIGIN_TEXT[config.repositoryOrigin]})`,
      ...Object.entries(shown)
        .filter(([key]) => key !== 'url')
        .map(([key, value]) => `  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`),
      `sources:     ${config.sources.length === 0 ? 'none configured' : ''}`,
      ...config.sources.map((source) => `  ${source.path}${source.name ? ` (as "${source.name}")` : ''}`),
      ...warnings.map((warning) => `warning: ${warning}`),
      ...(reachable ? ['repository location reachable: yes'] : []),
      'config is valid',
    ],
  );
}

/** Missing source folders are warnings, not errors: a removable drive may simply be unplugged. */
async function sourceWarnings(config: ResolvedConfig): Promise<string[]> {
  const warnings: string[] = [];
  for (const source of config.sources) {
    try {
      const info = await stat(source.path);
      if (!info.isDirectory()) warnings.push(`source ${source.path} is not a folder`);
    } catch {
      warnings.push(`source ${source.path} does not exist (yet)`);
    }
  }
  return warnings;
}
