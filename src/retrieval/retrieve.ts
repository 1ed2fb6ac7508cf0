import { RETRIEVAL_HOURS, type RestoreRequest } from '../backend/archive.js';
import type { Backend } from '../backend/backend.js';
import type { Clock } from '../clock.js';
import { RetrievalPendingError, UsageError } from '../errors.js';
import { runPool } from '../util/pool.js';
import type { ArchivedObject } from './find-archived.js';
import { estimateRetrieval, type RetrievalEstimate } from './retrieval-prices.js';

/** What to do about archived objects a command needs (--request-archived, --tier, --days, --wait). */
export interface RetrievalPolicy {
  /** Ask S3 for a readable copy of each archived object not yet asked for; absent: ask for none. */
  request?: RestoreRequest;
  /** Wait until every needed object is readable, polling through the clock. */
  wait?: { clock: Clock; pollMs?: number };
  /** Say what would be requested, and request nothing. */
  dryRun?: boolean;
  onEvent?: (event: RetrievalEvent) => void;
}

export type RetrievalEvent =
  | { type: 'requesting'; objects: number; bytes: number; estimate: RetrievalEstimate }
  | { type: 'requested'; done: number; total: number }
  | { type: 'waiting'; ready: number; total: number; nextCheck: Date };

/** Where the archived objects a command needs stand once it has done what the policy allows. */
export interface RetrievalStatus {
  /** Every archived object needed. */
  archived: ArchivedObject[];
  /** Readable now (restored, earlier or while waiting). */
  ready: ArchivedObject[];
  /** Restores under way (asked now or before): readable later. */
  pending: ArchivedObject[];
  /** Not asked for: no --request-archived (or a dry run). */
  notRequested: ArchivedObject[];
  /** Restore requests this run sent. */
  requested: number;
  /** The cost of what was (or, without the flag or in a dry run, would be) requested. */
  estimate?: RetrievalEstimate;
}

const CONCURRENCY = 16;
const HOUR = 3_600_000;

/**
 * Requests and waits for archived objects, as the policy says: restore requests go out only for
 * objects neither restored nor already on their way (asking twice costs twice), and a wait checks
 * the objects in order, a HEAD at a time, stopping at the first one still on its way: restores
 * asked together finish at about the same time, so a check costs a request or two, not one per
 * object. Never reads an object.
 */
export async function retrieveArchived(
  backend: Backend,
  archived: readonly ArchivedObject[],
  policy: RetrievalPolicy,
): Promise<RetrievalStatus> {
  const status: RetrievalStatus = {
    archived: [...archived],
    ready: archived.filter((a) => a.restore === 'restored'),
    pending: archived.filter((a) => a.restore === 'in-progress'),
    notRequested: [],
    requested: 0,
  };
  const toRequest = archived.filter((a) => a.restore === 'none');
  if (toRequest.length === 0) return waitIfAsked(backend, status, policy);

  const request = policy.request ?? { tier: 'Bulk', days: 7 };
  status.estimate = estimateRetrieval(toRequest, request.tier, request.days);
  if (!policy.request || policy.dryRun) {
    status.notRequested = toRequest;
    return status;
  }
  if (status.estimate.unavailableFor.length > 0) {
    throw new UsageError(
      `S3 offers no ${request.tier} retrieval for ${status.estimate.unavailableFor.join(', ')}, where ${toRequest.length} of the objects are`,
      { hint: 'use --tier Standard (or Bulk, the cheapest)' },
    );
  }
  policy.onEvent?.({
    type: 'requesting',
    objects: toRequest.length,
    bytes: status.estimate.bytes,
    estimate: status.estimate,
  });
  let done = 0;
  await runPool(toRequest, CONCURRENCY, async (object) => {
    const outcome = await backend.requestRestore(object.key, request);
    status.requested++;
    if (outcome === 'restored' || outcome === 'not-archived') status.ready.push(object);
    else status.pending.push(object);
    done++;
    if (done % 100 === 0 || done === toRequest.length)
      policy.onEvent?.({ type: 'requested', done, total: toRequest.length });
  });
  return waitIfAsked(backend, status, policy);
}

async function waitIfAsked(
  backend: Backend,
  status: RetrievalStatus,
  policy: RetrievalPolicy,
): Promise<RetrievalStatus> {
  if (!policy.wait || policy.dryRun || status.pending.length === 0) return status;
  const { clock } = policy.wait;
  const pollMs = policy.wait.pollMs ?? pollInterval(status.pending, policy.request?.tier ?? 'Standard');
  const total = status.pending.length + status.ready.length;
  const pending = [...status.pending].sort((a, b) => (a.key < b.key ? -1 : 1));
  for (;;) {
    while (pending.length > 0) {
      const object = pending[0]!;
      const state = (await backend.head(object.key)).archive;
      if (state?.restore === 'none') {
        // Its restored copy expired, or the request was lost: ask again, or stop waiting for it.
        if (!policy.request) {
          throw new RetrievalPendingError(`the retrieval of "${object.key}" is no longer under way`, {
            hint: 'ask for it again with --request-archived',
          });
        }
        await backend.requestRestore(object.key, policy.request);
        status.requested++;
        break;
      }
      if (state !== undefined && state.restore !== 'restored') break;
      status.ready.push(pending.shift()!);
    }
    status.pending = pending.slice();
    if (pending.length === 0) return status;
    const nextCheck = new Date(clock.now().getTime() + pollMs);
    policy.onEvent?.({ type: 'waiting', ready: total - pending.length, total, nextCheck });
    await clock.sleep(pollMs);
  }
}

/** About a twelfth of the slowest retrieval's usual time, between a minute and four hours. */
function pollInterval(objects: readonly ArchivedObject[], tier: RestoreRequest['tier']): number {
  const hours = Math.max(...objects.map((o) => RETRIEVAL_HOURS[o.storageClass]?.[tier] ?? 12));
  return Math.min(4 * HOUR, Math.max(60_000, (hours * HOUR) / 12));
}
