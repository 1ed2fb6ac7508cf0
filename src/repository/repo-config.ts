import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { IntegrityError, NotFoundError, TwinvaultError } from '../errors.js';
import { CONFIG_KEY } from './layout.js';

export const FORMAT_VERSION = 1;

const repoConfigSchema = z.object({
  format: z.literal('twinvault'),
  version: z.number().int(),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  created: z.string(),
});

export type RepoConfig = z.infer<typeof repoConfigSchema>;

export function newRepoConfig(now: Date): RepoConfig {
  return {
    format: 'twinvault',
    version: FORMAT_VERSION,
    id: randomBytes(16).toString('hex'),
    created: now.toISOString(),
  };
}

export async function writeRepoConfig(backend: Backend, config: RepoConfig): Promise<void> {
  const body = bodyFromBuffer(`${JSON.stringify(config, null, 2)}\n`);
  await backend.put(CONFIG_KEY, body, { createOnly: true, contentType: 'application/json' });
}

/** Reads `.twinvault/config.json`; a clear error when there is no repository or it is damaged. */
export async function readRepoConfig(backend: Backend): Promise<RepoConfig> {
  let text: string;
  try {
    text = (await readAll(await backend.get(CONFIG_KEY))).toString('utf8');
  } catch (err) {
    if (err instanceof TwinvaultError && err.code === 'NOT_FOUND') {
      throw new NotFoundError(`no twinvault repository at ${backend.location}`, {
        hint: 'create one with "twinvault init", or check --repo and the config file',
      });
    }
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new IntegrityError(
      `${backend.location}/${CONFIG_KEY} is not valid JSON; the repository config is damaged`,
      {
        cause,
        hint: 'restore it from a replica ("twinvault repair"), or from a backup copy of the bucket',
      },
    );
  }
  const result = repoConfigSchema.safeParse(parsed);
  if (!result.success) {
    throw new IntegrityError(`${backend.location}/${CONFIG_KEY} is not a twinvault repository config`);
  }
  if (result.data.version > FORMAT_VERSION) {
    throw new TwinvaultError(
      'USAGE',
      `repository format ${result.data.version} is newer than this twinvault supports`,
      {
        hint: 'upgrade twinvault',
      },
    );
  }
  return result.data;
}
