import type { Backend } from '../backend/backend.js';
import { type Clock, systemClock } from '../clock.js';
import { UsageError } from '../errors.js';
import type { ManifestHeader } from '../repository/manifest.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import { type DamagedManifest, readCheckedHeaders } from '../repository/manifest-check.js';
import { listSnapshots, type SnapshotRef } from '../repository/snapshots.js';
import { refuseDamagedInThinnedGroups } from './damaged-groups.js';
import { lockExclusively } from './exclusive-lock.js';
import {
  applyPolicy,
  type GroupBy,
  type GroupDecision,
  isEmptyPolicy,
  type PolicyChoice,
  type SnapshotFacts,
} from './policy.js';

export interface ForgetOptions {
  backend: Backend;
  cache: ManifestCache;
  policy: PolicyChoice;
  groupBy?: GroupBy;
  /** Only snapshots of this host are considered. */
  host?: string;
  dryRun?: boolean;
  clock?: Clock;
  lockWaitMs?: number;
  onWait?: (why: string) => void;
}

export interface ForgottenSnapshot extends SnapshotFacts {
  stamp: string;
  ref: SnapshotRef;
}

export interface ForgetResult {
  groups: Array<GroupDecision<ForgottenSnapshot>>;
  removed: number;
  kept: number;
  dryRun: boolean;
  /** Snapshots that cannot be read, in groups left as they were (they are kept, and counted so). */
  damaged: DamagedManifest[];
}

/**
 * Removes the snapshots a retention policy does not keep: their manifests only (DESIGN invariant
 * 2); `prune` then deletes the objects no remaining snapshot references. Holds the exclusive lock
 * and first waits for running backups, one of which may be building on a snapshot about to go.
 */
export async function forget(options: ForgetOptions): Promise<ForgetResult> {
  if (typeof options.policy !== 'function' && isEmptyPolicy(options.policy)) {
    throw new UsageError(
      'no retention rule given, so nothing would be kept apart from the latest snapshots',
      {
        hint: 'give at least one --keep-* option, e.g. --keep-within 30d or --keep-daily 7',
      },
    );
  }
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  const held = dryRun
    ? undefined
    : await lockExclusively(options.backend, {
        operation: 'forget',
        clock,
        waitForBackups: true,
        ...(options.lockWaitMs === undefined ? {} : { waitMs: options.lockWaitMs }),
        ...(options.onWait ? { onWait: options.onWait } : {}),
      });
  try {
    const listed = (await listSnapshots(options.backend)).filter(
      (ref) => !options.host || ref.host === options.host,
    );
    // From the repository's own bytes, each read in full: a damaged manifest is never counted.
    const { refs, headers, damaged } = await readCheckedHeaders(options.backend, options.cache, listed);
    const factsOf = (ref: SnapshotRef, header: ManifestHeader): ForgottenSnapshot => ({
      id: ref.id,
      stamp: ref.stamp,
      ref,
      time: new Date(header.time),
      host: header.host,
      sources: header.sources.map((source) => source.name),
      tags: header.tags,
    });
    const facts = refs.map((ref, index) => factsOf(ref, headers[index]!));
    const groups = applyPolicy(facts, options.policy, options.groupBy, clock.now());
    refuseDamagedInThinnedGroups(groups, damaged, options.policy, options.groupBy, factsOf);
    // Under Object Lock, a manifest still retained cannot go: it stays, and says why.
    if (options.backend.capabilities.objectLock) {
      const now = clock.now().getTime();
      for (const group of groups) {
        for (const decision of group.decisions) {
          if (decision.keep) continue;
          const until = (await options.backend.head(decision.snapshot.ref.key)).lockedUntil;
          if (until && until.getTime() > now) {
            decision.keep = true;
            decision.reasons.push(`locked until ${until.toISOString()}`);
          }
        }
      }
    }
    // A snapshot of several sources is in several groups: removed once.
    const removed = [
      ...new Set(
        groups.flatMap((group) => group.decisions.filter((d) => !d.keep).map((d) => d.snapshot.ref.key)),
      ),
    ];
    if (!dryRun && removed.length > 0) {
      await held!.lock.ensureHeld();
      const result = await options.backend.deleteMany(removed);
      if (result.failed.length > 0) throw result.failed[0]!.error;
    }
    return {
      groups,
      removed: removed.length,
      kept: facts.length + damaged.length - removed.length,
      dryRun,
      damaged,
    };
  } finally {
    await held?.lock.release().catch(() => {});
  }
}
