import type { Backend } from '../backend/backend.js';
import { type Clock, systemClock } from '../clock.js';
import { UsageError } from '../errors.js';
import type { ManifestCache } from '../repository/manifest-cache.js';
import { readHeaders } from '../repository/snapshot-headers.js';
import { listSnapshots, type SnapshotRef } from '../repository/snapshots.js';
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
    const refs = (await listSnapshots(options.backend)).filter(
      (ref) => !options.host || ref.host === options.host,
    );
    const headers = await readHeaders(options.backend, options.cache, refs);
    const facts = refs.map(
      (ref, index): ForgottenSnapshot => ({
        id: ref.id,
        stamp: ref.stamp,
        ref,
        time: new Date(headers[index]!.time),
        host: headers[index]!.host,
        sources: headers[index]!.sources.map((source) => source.name),
        tags: headers[index]!.tags,
      }),
    );
    const groups = applyPolicy(facts, options.policy, options.groupBy);
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
    return { groups, removed: removed.length, kept: facts.length - removed.length, dryRun };
  } finally {
    await held?.lock.release().catch(() => {});
  }
}
