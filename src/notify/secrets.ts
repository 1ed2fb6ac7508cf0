import { readFile } from 'node:fs/promises';
import type { SecretSetting } from '../config/notifications-schema.js';
import { ConfigError } from '../errors.js';

/**
 * A channel's secret, read when it is needed (so a rotated file or variable takes effect without
 * a restart). The error names the channel and the setting, never the value.
 */
export async function readSecret(
  setting: SecretSetting,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (typeof setting === 'string') return setting;
  if ('env' in setting) {
    const value = env[setting.env];
    if (!value) {
      throw new ConfigError(`${where}: the environment variable ${setting.env} is not set`, {
        hint: `set ${setting.env} in the environment the agent runs in (for a service, in its unit or plist)`,
      });
    }
    return value;
  }
  try {
    const value = (await readFile(setting.file, 'utf8')).trim();
    if (value) return value;
    throw new ConfigError(`${where}: the file ${setting.file} is empty`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `${where}: cannot read the file ${setting.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}
