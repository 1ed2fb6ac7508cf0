import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Backend } from '../../backend/backend.js';
import { isTwinvaultError } from '../../errors.js';
import { kindOfKey } from '../../repository/layout.js';
import { runPool } from '../../util/pool.js';
import {
  type CopyLimiter,
  type KeyOutcome,
  type SyncOptions,
  syncManifest,
  syncObject,
} from '../sync-one.js';
import type { ObjectEvent } from './s3-events.js';

/** The bucket and key prefix of the source repository: events about other keys are refused. */
export interface SourceScope {
  bucket: string;
  prefix: string;
}

export interface SyncResult {
  copied: number;
  /** Manifests not copied because an object they reference is gone from the source (logged). */
  held: number;
  /** Already in every replica (events come more than once). */
  present: number;
  /** Outside the repository, local to it (locks), removals (left to full passes), or gone. */
  ignored: number;
}

/** Told what happens to the objects (once per replica), for metrics; logs are written either way. */
export interface SyncObserver {
  /** An object copied: one an event names, or one that a snapshot being copied references. */
  copied?(key: string, bytes: number): void;
  /**
   * An object an event names that did not reach the replica: its copy failed (handle() then
   * rejects), or it is a snapshot held back because an object it references is gone.
   */
  failed?(key: string): void;
}

/**
 * Copies the objects that events name, right away. A manifest is copied only after every object
 * it references is in the replica (copying any that are not yet, whatever order events came
 * in), so invariant 3 holds in live mode too. Deletions are left to the full passes, which apply
 * the replica's delete policy in a safe order.
 */
export class ObjectSync {
  constructor(
    private readonly source: Backend,
    private readonly scope: SourceScope,
    private readonly destinations: readonly Backend[],
    private readonly log: Pick<Logger, 'info' | 'warn' | 'debug' | 'error'>,
    private readonly concurrency = 16,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** Every copy live mode makes, whatever request or manifest asked for it, shares these slots. */
  private readonly limit: CopyLimiter;

  /** Resolves once each named object is durable in every replica; rejects if any could not be. */
  async handle(events: readonly ObjectEvent[], observer: SyncObserver = {}): Promise<SyncResult> {
    const result: SyncResult = { copied: 0, held: 0, present: 0, ignored: 0 };
    const work: Array<{ key: string; destination: Backend }> = [];
    const seen = new Set<string>();
    for (const event of events) {
      const key = this.relativeKey(event);
      if (key === undefined) {
        this.log.warn(
          { bucket: event.bucket, key: event.key, event: event.name },
          'ignored an event for an object outside the repository',
        );
        result.ignored++;
        continue;
      }
      if (event.action === 'removed' || kindOfKey(key) === 'local' || seen.has(key)) {
        this.log.debug({ key, event: event.name }, 'event needs no copy');
        result.ignored++;
        continue;
      }
      seen.add(key);
      for (const destination of this.destinations) work.push({ key, destination });
    }
    await runPool(work, work.length, async ({ key, destination }) => {
      const started = performance.now();
      let outcome: KeyOutcome;
      try {
        const options = this.syncOptions(destination, observer);
        outcome =
          kindOfKey(key) === 'manifest'
            ? await syncManifest(this.source, destination, key, options)
            : await syncObject(this.source, destination, key, options);
      } catch (err) {
        observer.failed?.(key);
        // A snapshot whose object the source lost: sending the event again cannot help; the
        // full passes report it as held back.
        if (!(isTwinvaultError(err) && err.code === 'INTEGRITY')) throw err;
        result.held++;
        this.log.error({ key, replica: destination.location, err: err.message }, 'snapshot not copied');
        return;
      }
      if (outcome === 'copied') result.copied++;
      else if (outcome === 'present') result.present++;
      else result.ignored++;
      if (outcome !== 'copied') {
        this.log.info(
          {
            key,
            replica: destination.location,
            action: 'copy',
            outcome,
            durationMs: Math.round(performance.now() - started),
          },
          outcome === 'present' ? 'already in the replica' : 'gone from the source',
        );
      }
    });
    return result;
  }

  /** Each copy is logged with its size and duration (one JSON line, for CloudWatch Logs Insights). */
  private syncOptions(destination: Backend, observer: SyncObserver): SyncOptions {
    return {
      concurrency: this.concurrency,
      limit: this.limit,
      onCopied: (key, bytes, ms) => {
        observer.copied?.(key, bytes);
        this.log.info(
          {
            key,
            replica: destination.location,
            action: 'copy',
            outcome: 'copied',
            bytes,
            durationMs: Math.round(ms),
          },
          'copied',
        );
      },
    };
  }

  private relativeKey(event: ObjectEvent): string | undefined {
    if (event.bucket !== this.scope.bucket) return undefined;
    const root = this.scope.prefix === '' ? '' : `${this.scope.prefix}/`;
    if (!event.key.startsWith(root) || event.key.length === root.length) return undefined;
    return event.key.slice(root.length);
  }
}
