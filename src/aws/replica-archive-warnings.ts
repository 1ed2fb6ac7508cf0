import type { Backend } from '../backend/backend.js';
import { openBackend } from '../backend/registry.js';
import type { ResolvedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { targetOf } from '../replicate/targets.js';
import { ARCHIVE_NOTICE_DAYS, checkReplicasBeforeArchive } from './replica-archive-check.js';

export interface ReplicaArchiveWarnings {
  warnings: string[];
  /** How many replicas were checked (none when none is configured). */
  checked: number;
}

/**
 * Before content may be archived, the replicas must hold it (an archived object cannot be copied):
 * a replica lacking what the rule would archive within a week stops `applying` (a usage error
 * naming it); no replica, or one that cannot be checked, is a warning.
 */
export async function replicaArchiveWarnings(options: {
  backend: Backend;
  config: ResolvedConfig;
  archiveDay: number;
  applying: boolean;
  now: Date;
}): Promise<ReplicaArchiveWarnings> {
  const { config, archiveDay } = options;
  const replicas = config.replicas.filter(
    (replica) => replica.url.replace(/\/+$/, '') !== config.repository.url.replace(/\/+$/, ''),
  );
  if (replicas.length === 0) {
    return {
      warnings: [
        `no replica is configured: content archived after ${archiveDay} days can then only be restored through a retrieval request (hours, and a fee per GB; see docs/STORAGE.md)`,
      ],
      checked: 0,
    };
  }
  const checks = await checkReplicasBeforeArchive(
    options.backend,
    replicas.map((replica) => ({
      url: replica.url,
      open: () => openBackend(targetOf(config, replica.url).settings),
    })),
    archiveDay,
    options.now,
  );
  const warnings: string[] = [];
  for (const check of checks) {
    if (check.error !== undefined) {
      warnings.push(`could not check that the replica ${check.url} is current: ${check.error}`);
    } else if (check.atRisk && check.behind) {
      const message = `the replica ${check.url} lacks ${check.behind.objects} object(s), the oldest written ${check.behind.oldest.toISOString()}: the rule would archive it within ${ARCHIVE_NOTICE_DAYS} days, and an archived object can no longer be copied`;
      if (options.applying)
        throw new UsageError(message, { hint: 'run "twinvault replicate" first, then apply the rule' });
      warnings.push(message);
    }
  }
  return { warnings, checked: checks.length };
}
