import { findReplica, type ResolvedConfig, repositorySettingsOf } from '../config/load.js';
import { parseRepositoryUrl } from '../config/repository-url.js';
import type { RepositoryConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { DeleteRule } from './events.js';

/** A replica to copy to, with how to reach it and what to do with deletions. */
export interface ReplicaTarget {
  url: string;
  settings: RepositoryConfig;
  deletes: DeleteRule;
  concurrency: number;
  /** Whether the agent copies each of its snapshots here right after making it. */
  afterBackup: boolean;
}

const DEFAULT_CONCURRENCY = 32;

/**
 * The replicas a command works on: the URLs given (a configured replica by its URL brings its
 * own endpoint, keys and policy; any other URL is reached like the repository, with deletes
 * kept), or every configured replica.
 */
export function replicaTargets(config: ResolvedConfig, urls: readonly string[] = []): ReplicaTarget[] {
  if (urls.length === 0) {
    if (config.replicas.length === 0) {
      throw new UsageError('no replica to copy to', {
        hint: 'name one with --to s3://bucket/prefix, or add "replicas" to the config (see docs/REPLICATION.md)',
      });
    }
    return config.replicas.map((replica) => targetOf(config, replica.url));
  }
  return urls.map((url) => targetOf(config, url));
}

export function targetOf(config: ResolvedConfig, url: string): ReplicaTarget {
  parseRepositoryUrl(url, 'replica');
  const replica = findReplica(config.replicas, url);
  if (replica) {
    return {
      url: replica.url,
      settings: repositorySettingsOf(replica),
      deletes: {
        policy: replica.deletes,
        ...(replica.deleteAfter === undefined ? {} : { afterMs: replica.deleteAfter }),
      },
      concurrency: replica.concurrency,
      afterBackup: replica.afterBackup,
    };
  }
  return {
    url,
    settings: { ...config.repository, url },
    deletes: { policy: 'keep' },
    concurrency: DEFAULT_CONCURRENCY,
    afterBackup: false,
  };
}

/** Where a pass copies from: the repository, or a URL given with --from (resolved like a replica). */
export function sourceSettings(config: ResolvedConfig, from: string | undefined): RepositoryConfig {
  return from === undefined ? config.repository : targetOf(config, from).settings;
}
