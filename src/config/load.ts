import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import {
  DEFAULT_NOTIFICATIONS,
  type NotificationsConfig,
  type SecretSetting,
} from './notifications-schema.js';
import { parseJsonFile } from './parse-json.js';
import { defaultRepositoryFolder, LOCAL_CONFIG_FILE, userConfigFile } from './paths.js';
import { parseRepositoryUrl } from './repository-url.js';
import {
  type AgentConfig,
  agentSchema,
  type ConfigFile,
  configSchema,
  type ReplicaConfig,
  type RepositoryConfig,
  type RetentionConfig,
  type SourceConfig,
  type StorageClass,
} from './schema.js';
import { describeIssues } from './schema-issues.js';

export interface LoadOptions {
  /** --config: must exist when given. */
  configFile?: string;
  /** --repo: replaces the repository URL; the file's S3 settings still apply. */
  repository?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export type SettingOrigin = 'flag' | 'environment' | 'file' | 'default';

export interface ResolvedConfig {
  /** The file the settings came from, if any. */
  configFile: string | undefined;
  repository: RepositoryConfig;
  repositoryOrigin: SettingOrigin;
  sources: SourceConfig[];
  host: string | undefined;
  /** Settings of the agent, with defaults filled in. */
  agent: AgentConfig;
  replicas: ReplicaConfig[];
  /** The repository's retention policy (sources may have their own). */
  retention: RetentionConfig | undefined;
  /** Storage prices overriding the AWS list prices `stats` uses. */
  prices: Partial<Record<StorageClass, number>>;
  /** Alert channels and thresholds; files they name are resolved from the config's folder. */
  notifications: NotificationsConfig;
}

export const ENV_CONFIG = 'TWINVAULT_CONFIG';
export const ENV_REPOSITORY = 'TWINVAULT_REPOSITORY';

/**
 * Resolves the configuration: the file (--config, else $TWINVAULT_CONFIG, else ./twinvault.json,
 * else the user's config folder), then environment variables, then flags, each overriding the one
 * before. Everything is validated; any problem is a ConfigError naming file, key and fix.
 */
export async function loadConfig(options: LoadOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configFile = await findConfigFile(options, env, cwd);
  const file = configFile ? await readConfigFile(configFile) : configSchema.parse({});

  const base: RepositoryConfig =
    file.repository === undefined
      ? { url: pathToFileURL(defaultRepositoryFolder()).href }
      : typeof file.repository === 'string'
        ? { url: file.repository }
        : file.repository;
  let repositoryOrigin: SettingOrigin = file.repository === undefined ? 'default' : 'file';
  let repository = base;
  if (env[ENV_REPOSITORY]) {
    repository = { ...repository, url: env[ENV_REPOSITORY] };
    repositoryOrigin = 'environment';
  }
  if (options.repository) {
    // A configured replica named by --repo (to restore from it) brings its own endpoint and keys.
    const replica = findReplica(file.replicas, options.repository);
    repository = replica ? repositorySettingsOf(replica) : { ...repository, url: options.repository };
    repositoryOrigin = 'flag';
  }
  parseRepositoryUrl(repository.url, describeOrigin(repositoryOrigin, configFile));

  const folder = configFile ? dirname(configFile) : cwd;
  const sources = file.sources.map((source) => ({ ...source, path: resolveUserPath(source.path, folder) }));
  return {
    configFile,
    repository,
    repositoryOrigin,
    sources,
    host: file.host,
    agent: file.agent ?? agentSchema.parse({}),
    replicas: file.replicas,
    retention: file.retention,
    prices: file.prices ?? {},
    notifications: resolveNotificationPaths(file.notifications ?? DEFAULT_NOTIFICATIONS, folder),
  };
}

function resolveNotificationPaths(settings: NotificationsConfig, folder: string): NotificationsConfig {
  const secret = <T extends SecretSetting | undefined>(value: T): T =>
    (value !== undefined && typeof value === 'object' && 'file' in value
      ? { file: resolveUserPath(value.file, folder) }
      : value) as T;
  return {
    ...settings,
    channels: settings.channels.map((channel) => {
      switch (channel.type) {
        case 'webhook':
          return { ...channel, url: secret(channel.url), secret: secret(channel.secret) };
        case 'slack':
          return { ...channel, url: secret(channel.url) };
        case 'sns':
          return { ...channel, secretAccessKey: secret(channel.secretAccessKey) };
        case 'email':
          return {
            ...channel,
            password: secret(channel.password),
            ...(channel.caFile ? { caFile: resolveUserPath(channel.caFile, folder) } : {}),
          };
        default:
          return { ...channel, url: secret(channel.url), failUrl: secret(channel.failUrl) };
      }
    }),
  };
}

/** The configured replica a URL names (trailing slashes aside), if any. */
export function findReplica(replicas: readonly ReplicaConfig[], url: string): ReplicaConfig | undefined {
  const wanted = normalizeUrl(url);
  return replicas.find((replica) => normalizeUrl(replica.url) === wanted);
}

/** A replica's connection settings, without its replication policy. */
export function repositorySettingsOf(replica: ReplicaConfig): RepositoryConfig {
  const {
    deletes: _deletes,
    deleteAfter: _deleteAfter,
    afterBackup: _afterBackup,
    concurrency: _c,
    retention: _retention,
    ...settings
  } = replica;
  return settings;
}

function normalizeUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** Validates parsed JSON against the schema; exported for tests and for `config check`. */
export function validateConfig(data: unknown, file: string): ConfigFile {
  const result = configSchema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const lines = describeIssues(result.error.issues, configSchema);
  throw new ConfigError(`${file} is not a valid twinvault config:\n  ${lines.join('\n  ')}`, {
    hint: 'see schema/config.schema.json or docs/CONFIG.md for the valid keys',
  });
}

async function findConfigFile(options: LoadOptions, env: NodeJS.ProcessEnv, cwd: string) {
  if (options.configFile) return mustExist(resolve(cwd, options.configFile), '--config');
  if (env[ENV_CONFIG]) return mustExist(resolve(cwd, env[ENV_CONFIG]), ENV_CONFIG);
  for (const candidate of [join(cwd, LOCAL_CONFIG_FILE), userConfigFile()]) {
    if (await readable(candidate)) return candidate;
  }
  return undefined;
}

async function mustExist(path: string, origin: string): Promise<string> {
  if (!(await readable(path))) throw new ConfigError(`config file ${path} (from ${origin}) does not exist`);
  return path;
}

async function readable(path: string): Promise<boolean> {
  try {
    await readFile(path, { flag: 'r' });
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new ConfigError(
      `cannot read config file ${path}: ${code === 'EACCES' ? 'permission denied' : code}`,
      {
        cause: err,
      },
    );
  }
}

async function readConfigFile(path: string): Promise<ConfigFile> {
  const text = await readFile(path, 'utf8');
  return validateConfig(parseJsonFile(text, path), path);
}

function describeOrigin(origin: SettingOrigin, configFile: string | undefined): string {
  switch (origin) {
    case 'flag':
      return '--repo';
    case 'environment':
      return ENV_REPOSITORY;
    case 'file':
      return `${configFile}: repository`;
    default:
      return 'default repository';
  }
}

/** Expands "~" and resolves relative paths against the config file's folder. */
export function resolveUserPath(path: string, base: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return resolve(base, path);
}
