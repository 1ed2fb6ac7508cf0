import type { Backend, ObjectInfo } from '../backend/backend.js';
import { compareKeys } from '../backend/keys.js';
import { type Clock, systemClock } from '../clock.js';
import { isTwinvaultError, TwinvaultError } from '../errors.js';
import { CONFIG_KEY, kindOfKey, LOCKS_PREFIX, SNAPSHOTS_PREFIX } from '../repository/layout.js';
import { lockedError, unlockHint } from '../repository/lock-message.js';
import { liveExclusiveLocks, RepositoryLock } from '../repository/locks.js';
import { forEachReference } from '../repository/manifest-refs.js';
import { readRepoConfig } from '../repository/repo-config.js';
import { runPool } from '../util/pool.js';
import { readAhead } from '../util/read-ahead.js';
import { type CopyOutcome, copyObject } from './copy-object.js';
import { applyDeletes } from './deletes.js';
import { inspectDestination, sameStore } from './destination.js';
import {
  type DeleteRule,
  emptySummary,
  MAX_PROBLEMS,
  type PassSummary,
  type ReplicationEvent,
} from './events.js';
import { compareListings, type ListingChange } from './listing-diff.js';
import { holdSameBytes } from './same-object.js';
import { syncObject } from './sync-one.js';

export interface PassOptions {
  source: Backend;
  destination: Backend;
  deletes?: DeleteRule;
  /** Copies in flight at once (default 32). */
  concurrency?: number;
  /** Report what would be copied and deleted; change nothing. */
  dryRun?: boolean;
  clock?: Clock;
  onEvent?: (event: ReplicationEvent) => void;
  /**
   * Asked before each copy is started: true stops the pass cleanly (a Lambda near its time limit).
   * The summary then says where to resume; manifests and deletes wait for a complete pass.
   */
  shouldStop?: () => boolean;
  /** Resume a stopped pass: content keys up to and including this one were done already. */
  startAfter?: string;
}

const DEFAULT_CONCURRENCY = 32;
/**
 * Streamed copies hold bytes in memory (a small object whole, a large one a few parts): at most
 * this much at once, estimated, however many copies are in flight. Server-side copies hold none.
 */
const STREAMED_BYTES_BUDGET = 256 * 1024 * 1024;
const STREAMED_BYTES_PER_OBJECT = 64 * 1024 * 1024;
/** Deletes spare destination objects written this long before the pass started, or later. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Copies failing one after another, with none succeeding: the cause is not one object's. */
const MAX_FAILURES_IN_A_ROW = 25;
/** Listing entries fetched ahead: one page of each side in flight while the last is compared. */
const LISTING_READ_AHEAD = 1000;

/**
 * One replication pass: makes the destination hold every object of the source repository.
 * Both listings are walked side by side in key order; objects the destination lacks or holds
 * differently are copied, content first; a manifest is copied only once every object it references
 * is in the destination (DESIGN invariant 3). Deletions follow the replica's policy, manifests
 * before the objects they reference. A pass that stops (store unreachable) leaves only whole
 * objects behind, so the next one goes on from there.
 */
export async function replicatePass(options: PassOptions): Promise<PassSummary> {
  const { source, destination } = options;
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  const deletes = options.deletes ?? { policy: 'keep' };
  const summary = emptySummary(source.location, destination.location, dryRun, deletes.policy, clock.now());
  const emit = (event: ReplicationEvent) => {
    if ((event.type === 'failed' || event.type === 'held') && summary.problems.length < MAX_PROBLEMS) {
      const message = event.type === 'failed' ? event.error.message : describeHeld(event.missing);
      summary.problems.push({ key: event.key, message });
    }
    options.onEvent?.(event);
  };

  const sourceConfig = await readRepoConfig(source);
  const state = await inspectDestination(source, sourceConfig, destination);
  const destinationExists = !(state.kind === 'empty' && state.bucketMissing);
  if (state.kind === 'empty' && !dryRun) {
    if (state.bucketMissing) await destination.create();
    await destination.copy(CONFIG_KEY, CONFIG_KEY, { from: source });
  }
  // Like a backup, a pass holds a shared lock on the replica: a prune there (its own retention)
  // then keeps what the pass copies before the manifests that reference it.
  const lock = dryRun ? undefined : await lockReplica(destination, clock);
  try {
    const listDestination = (prefix: string) =>
      destinationExists ? destination.list(prefix) : emptyListing();

    // Manifests sort before content, so the references of new ones are known before the walk.
    const manifestChanges: ListingChange[] = [];
    for await (const change of compareListings(
      source.list(SNAPSHOTS_PREFIX),
      listDestination(SNAPSHOTS_PREFIX),
    )) {
      manifestChanges.push(change);
    }
    const walk = new ContentWalk(options, summary, emit, dryRun);
    const manifestsToCopy: ObjectInfo[] = [];
    for (const change of manifestChanges) {
      if (change.kind === 'extra') {
        summary.extra++;
        continue;
      }
      summary.objects.checked++;
      if (change.kind === 'same') {
        summary.objects.unchanged++;
        continue;
      }
      try {
        if (
          change.kind === 'unsure' &&
          (await holdSameBytes(source, destination, change.source, change.destination))
        ) {
          summary.objects.unchanged++;
          continue;
        }
        walk.noteBehind(change.source);
        await forEachReference(source, change.source.key, (key) => walk.needed.set(key, false));
        manifestsToCopy.push(change.source);
      } catch (err) {
        // A manifest gone meanwhile, or damaged, concerns that snapshot only; anything else stops.
        if (!isTwinvaultError(err) || !['NOT_FOUND', 'INTEGRITY'].includes(err.code))
          throw stopped(err, summary);
        if (err.code === 'NOT_FOUND') summary.objects.vanished++;
        else {
          summary.objects.failed++;
          emit({ type: 'failed', key: change.source.key, error: err });
        }
      }
    }

    const listing = options.startAfter === undefined ? {} : { startAfter: options.startAfter };
    try {
      await walk.run(
        source.list('', listing),
        destinationExists ? destination.list('', listing) : emptyListing(),
      );
    } catch (err) {
      throw stopped(err, summary);
    }
    if (walk.stoppedAfter !== undefined) {
      summary.resumeAfter = walk.stoppedAfter;
      summary.finishedAt = clock.now().toISOString();
      return summary;
    }
    if (options.startAfter !== undefined) {
      try {
        await walk.confirmEarlier(options.startAfter);
      } catch (err) {
        throw stopped(err, summary);
      }
    }

    const absent = new Set([...walk.needed].flatMap(([key, present]) => (present ? [] : [key])));
    for (const manifest of manifestsToCopy) {
      let missing: string[];
      try {
        missing = absent.size === 0 ? [] : await referencesAmong(source, manifest.key, absent);
      } catch (err) {
        if (!(isTwinvaultError(err) && err.code === 'NOT_FOUND')) throw stopped(err, summary);
        summary.objects.vanished++;
        continue;
      }
      if (missing.length > 0) {
        summary.manifests.held++;
        emit({ type: 'held', key: manifest.key, missing });
        continue;
      }
      if (dryRun) {
        summary.manifests.copied++;
        continue;
      }
      try {
        const outcome = await copyObject(source, destination, manifest);
        if (outcome.kind === 'copied') summary.manifests.copied++;
        tally(outcome, manifest, summary, emit);
      } catch (err) {
        throw stopped(err, summary);
      }
    }

    if (deletes.policy !== 'keep' && destinationExists) {
      const extraManifests = manifestChanges.flatMap((change) =>
        change.kind === 'extra'
          ? [{ key: change.destination.key, lastModified: change.destination.lastModified }]
          : [],
      );
      await applyDeletes({
        destination,
        rule: deletes,
        extraManifests,
        extraObjects: walk.extras.filter(({ key }) => !walk.needed.has(key)),
        // Objects that appeared meanwhile (live copies, another machine's pass) are not extras yet.
        writtenBefore: Date.parse(summary.startedAt) - CLOCK_SKEW_MS,
        now: clock.now().getTime(),
        dryRun,
        summary,
        emit,
      });
    }
    summary.finishedAt = clock.now().toISOString();
    return summary;
  } finally {
    await lock?.release().catch(() => {});
  }
}

/**
 * The walk over content objects, copying with bounded concurrency. Remembers which objects
 * new manifests need and whether each is now in the destination.
 */
class ContentWalk {
  /** Keys referenced by the manifests about to be copied; true once the destination holds them. */
  readonly needed = new Map<string, boolean>();
  /** Destination objects the source no longer has: candidates for the delete policy. */
  readonly extras: Array<{ key: string; lastModified: Date }> = [];
  private failuresInARow = 0;
  private readonly running = new Set<Promise<void>>();
  private load = 0;
  /** Set when shouldStop() ended the walk early: the last key dealt with. */
  stoppedAfter: string | undefined;
  private fatal: { error: unknown } | undefined;

  constructor(
    private readonly options: PassOptions,
    private readonly summary: PassSummary,
    private readonly emit: (event: ReplicationEvent) => void,
    private readonly dryRun: boolean,
  ) {}

  async run(sourceListing: AsyncIterable<ObjectInfo>, destinationListing: AsyncIterable<ObjectInfo>) {
    const concurrency = this.options.concurrency ?? DEFAULT_CONCURRENCY;
    const streamed = !sameStore(this.options.source, this.options.destination);
    const changes = compareListings(
      readAhead(contentOnly(sourceListing), LISTING_READ_AHEAD),
      readAhead(contentOnly(destinationListing), LISTING_READ_AHEAD),
    );
    try {
      let last: string | undefined;
      for await (const change of changes) {
        if (this.fatal) break;
        if (this.options.shouldStop?.() && last !== undefined) {
          this.stoppedAfter = last;
          break;
        }
        last = change.kind === 'extra' ? change.destination.key : change.source.key;
        if (change.kind === 'extra') {
          // The replica may hold what a new manifest needs and the source lost: it stays.
          this.arrived(change.destination.key);
          this.extras.push({ key: change.destination.key, lastModified: change.destination.lastModified });
          this.summary.extra++;
          continue;
        }
        this.summary.objects.checked++;
        if (change.kind === 'same') {
          this.arrived(change.source.key);
          this.summary.objects.unchanged++;
          continue;
        }
        const weight = streamed ? Math.min(change.source.size, STREAMED_BYTES_PER_OBJECT) : 0;
        while (
          this.running.size >= concurrency ||
          (this.running.size > 0 && this.load + weight > STREAMED_BYTES_BUDGET)
        ) {
          await Promise.race(this.running);
        }
        this.load += weight;
        const task = this.settle(change).finally(() => {
          this.load -= weight;
          this.running.delete(task);
        });
        this.running.add(task);
      }
    } finally {
      await Promise.all(this.running);
    }
    if (this.fatal) throw this.fatal.error;
  }

  /**
   * In a resumed pass, the needed objects before the resume point were not walked this time:
   * each is copied now unless the destination holds it.
   */
  async confirmEarlier(startAfter: string): Promise<void> {
    const earlier = [...this.needed].flatMap(([key, present]) =>
      !present && compareKeys(key, startAfter) <= 0 ? [key] : [],
    );
    await runPool(earlier, this.options.concurrency ?? DEFAULT_CONCURRENCY, async (key) => {
      if ((await syncObject(this.options.source, this.options.destination, key)) !== 'vanished') {
        this.needed.set(key, true);
      }
    });
  }

  noteBehind(info: ObjectInfo): void {
    const behind = this.summary.behind;
    behind.objects++;
    behind.bytes += info.size;
    const modified = info.lastModified.toISOString();
    if (behind.oldest === undefined || modified < behind.oldest) behind.oldest = modified;
  }

  private async settle(change: Exclude<ListingChange, { kind: 'extra' | 'same' }>): Promise<void> {
    const { source, destination } = this.options;
    const info = change.source;
    try {
      if (change.kind === 'unsure' && (await holdSameBytes(source, destination, info, change.destination))) {
        this.arrived(info.key);
        this.summary.objects.unchanged++;
        return;
      }
      this.noteBehind(info);
      if (this.dryRun) {
        this.arrived(info.key);
        return;
      }
      const outcome = await copyObject(source, destination, info);
      this.failuresInARow = outcome.kind === 'failed' ? this.failuresInARow + 1 : 0;
      if (this.failuresInARow >= MAX_FAILURES_IN_A_ROW && outcome.kind === 'failed') {
        throw new TwinvaultError(
          outcome.error.code,
          `${MAX_FAILURES_IN_A_ROW} copies in a row failed, the last: ${outcome.error.message}`,
          {
            cause: outcome.error,
            ...(outcome.error.hint ? { hint: outcome.error.hint } : {}),
          },
        );
      }
      if (outcome.kind === 'copied') this.arrived(info.key);
      tally(outcome, info, this.summary, this.emit);
    } catch (err) {
      this.fatal ??= { error: err };
    }
  }

  private arrived(key: string): void {
    if (this.needed.has(key)) this.needed.set(key, true);
  }
}

/** Counts one copy's outcome in the summary and reports it. */
function tally(
  outcome: CopyOutcome,
  info: ObjectInfo,
  summary: PassSummary,
  emit: (event: ReplicationEvent) => void,
) {
  if (outcome.kind === 'copied') {
    summary.objects.copied++;
    summary.objects.copiedBytes += info.size;
    emit({ type: 'copied', key: info.key, bytes: info.size, ms: outcome.ms });
  } else if (outcome.kind === 'vanished') {
    summary.objects.vanished++;
    emit({ type: 'vanished', key: info.key });
  } else {
    summary.objects.failed++;
    emit({ type: 'failed', key: info.key, error: outcome.error });
  }
}

async function* contentOnly(listing: AsyncIterable<ObjectInfo>): AsyncGenerator<ObjectInfo> {
  for await (const object of listing) if (kindOfKey(object.key) === 'content') yield object;
}

async function* emptyListing(): AsyncGenerator<ObjectInfo> {}

/** The objects a manifest references that are among `absent` (not in the destination after the walk). */
async function referencesAmong(source: Backend, manifestKey: string, absent: ReadonlySet<string>) {
  const missing: string[] = [];
  await forEachReference(source, manifestKey, (key) => {
    if (absent.has(key)) missing.push(key);
  });
  return missing;
}

function describeHeld(missing: string[]): string {
  const shown = missing
    .slice(0, 3)
    .map((key) => `"${key}"`)
    .join(', ');
  return `not copied: ${missing.length} object(s) it references are missing from the source or failed to copy (${shown}${missing.length > 3 ? ', …' : ''}); the replica keeps only whole snapshots`;
}

function stopped(err: unknown, summary: PassSummary): unknown {
  if (!isTwinvaultError(err)) return err;
  return new TwinvaultError(
    err.code,
    `replication to ${summary.destination} stopped after copying ${summary.objects.copied} object(s): ${err.message}`,
    {
      cause: err,
      hint: `${err.hint ? `${err.hint}; ` : ''}the next pass goes on from where this one stopped`,
      retryable: err.isRetryable,
    },
  );
}

async function lockReplica(destination: Backend, clock: Clock): Promise<RepositoryLock> {
  const lock = await RepositoryLock.acquire(destination, 'shared', 'replicate', clock);
  try {
    const keys: string[] = [];
    for await (const object of destination.list(LOCKS_PREFIX)) keys.push(object.key);
    const [holder] = await liveExclusiveLocks(destination, keys, clock.now());
    if (holder) {
      throw lockedError(
        `the replica ${destination.location}`,
        holder,
        clock.now(),
        `the next pass goes on once it is done; ${unlockHint(holder)} (with --repo ${destination.location})`,
      );
    }
    return lock;
  } catch (err) {
    await lock.release().catch(() => {});
    throw err;
  }
}
