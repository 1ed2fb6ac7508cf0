import { IntegrityError } from '../errors.js';
import type { ManifestHeader } from '../repository/manifest.js';
import type { DamagedManifest } from '../repository/manifest-check.js';
import {
  applyPolicy,
  type GroupBy,
  type GroupDecision,
  type PolicyChoice,
  type SnapshotFacts,
} from './policy.js';

/**
 * Forget does not thin a group that holds a snapshot it cannot read (DESIGN invariant 8): the
 * policy would count the readable ones only, and keep-last 1 could then remove the last snapshot
 * that restores while the damaged one stays. A damaged manifest whose header still reads belongs
 * to the groups the policy puts it in (one per source); one without a readable header may belong
 * to any group of its host. Groups without damage are thinned as usual.
 */
export function refuseDamagedInThinnedGroups<T extends SnapshotFacts>(
  groups: Array<GroupDecision<T>>,
  damaged: DamagedManifest[],
  policy: PolicyChoice,
  groupBy: GroupBy | undefined,
  /** The facts the policy sees of a snapshot, made as for the readable ones. */
  factsOf: (ref: DamagedManifest['ref'], header: ManifestHeader) => T,
): void {
  const thinned = groups.filter((group) => group.decisions.some((decision) => !decision.keep));
  const blocking = damaged.filter((manifest) => thinned.some((group) => couldHold(group, manifest)));
  if (blocking.length === 0) return;
  throw new IntegrityError(
    `forget changed nothing: ${blocking.length} snapshot(s) in the groups it would thin cannot be read from the repository, so it cannot tell which to keep: ${blocking
      .map((manifest) => `${manifest.ref.key} (${manifest.error.message})`)
      .join('; ')}`,
    {
      hint: 'repair them from a replica with "twinvault repair --from REPLICA" ("twinvault verify" lists every damaged manifest), then forget again',
    },
  );

  function couldHold(group: GroupDecision<T>, manifest: DamagedManifest): boolean {
    const { header, ref } = manifest;
    if (!header) return group.group.host === undefined || group.group.host === ref.host;
    // Grouped by source, a snapshot of several sources is in the group of each.
    const own = applyPolicy([factsOf(ref, header)], policy, groupBy).map((g) => JSON.stringify(g.group));
    return own.includes(JSON.stringify(group.group));
  }
}
