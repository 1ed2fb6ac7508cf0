import type { Logger } from 'pino';
import type { Backend, ObjectHead } from '../../backend/backend.js';
import { IntegrityError, isTwinvaultError } from '../../errors.js';
import { kindOfKey } from '../../repository/layout.js';
import { runPool } from '../../util/pool.js';
import { copyObject } from '../copy-object.js';
import { forEachReference } from '../manifest-refs.js';
import type { ObjectEvent } from './s3-events.js';

/** The bucket and key prefix of the source repository: events about other keys are refused. */
export interface SourceScope {
  bucket: string;
  prefix: string;
}

export interface SyncResult {
  copied: number;
  /** Already in every replica (events come more than once). */
  present: number;
  /** Outside the repository, local to it (locks), removals (left to full passes), or gone. */
  ignored: number;
}

type KeyOutcome = 'copied' | 'present' | 'vanished';

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
    private readonly log: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly concurrency = 16,
  ) {}

  /** Resolves once each named object is durable in every replica; rejects if any could not be. */
  async handle(events: readonly ObjectEvent[]): Promise<SyncResult> {
    const result: SyncResult = { copied: 0, present: 0, ignored: 0 };
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
    await runPool(work, this.concurrency, async ({ key, destination }) => {
      const started = performance.now();
      const outcome =
        kindOfKey(key) === 'manifest'
          ? await this.syncManifest(destination, key)
          : await this.syncObject(destination, key);
      if (outcome === 'copied') result.copied++;
      else if (outcome === 'present') result.present++;
      else result.ignored++;
      this.log.info(
        { key, replica: destination.location, action: outcome, ms: Math.round(performance.now() - started) },
        outcome === 'copied'
          ? 'copied'
          : outcome === 'present'
            ? 'already in the replica'
            : 'gone from the source',
      );
    });
    return result;
  }

  private relativeKey(event: ObjectEvent): string | undefined {
    if (event.bucket !== this.scope.bucket) return undefined;
    const root = this.scope.prefix === '' ? '' : `${this.scope.prefix}/`;
    if (!event.key.startsWith(root) || event.key.length === root.length) return undefined;
    return event.key.slice(root.length);
  }

  private async syncObject(destination: Backend, key: string): Promise<KeyOutcome> {
    const source = await headIfAny(this.source, key);
    if (!source) return 'vanished';
    const existing = await headIfAny(destination, key);
    if (existing && sameObject(source, existing)) return 'present';
    const outcome = await copyObject(this.source, destination, source);
    if (outcome.kind === 'failed') throw outcome.error;
    return outcome.kind === 'copied' ? 'copied' : 'vanished';
  }

  /** Copies what the manifest references and the replica lacks, then the manifest itself. */
  private async syncManifest(destination: Backend, key: string): Promise<KeyOutcome> {
    const existing = await headIfAny(destination, key);
    if (existing) return 'present';
    const references = new Set<string>();
    try {
      await forEachReference(this.source, key, (reference) => references.add(reference));
    } catch (err) {
      if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return 'vanished';
      throw err;
    }
    const missing = await absentFrom(destination, references);
    await runPool(missing, this.concurrency, async (reference) => {
      if ((await this.syncObject(destination, reference)) === 'vanished') {
        throw new IntegrityError(
          `snapshot manifest "${key}" references "${reference}", which ${this.source.location} no longer holds; the manifest is not copied to ${destination.location}`,
          { hint: 'run "twinvault verify" on the repository' },
        );
      }
    });
    return this.syncObject(destination, key);
  }
}

function sameObject(source: ObjectHead, destination: ObjectHead): boolean {
  if (source.size !== destination.size) return false;
  if (source.etag === destination.etag) return true;
  const sha = source.metadata.sha256;
  return sha !== undefined && sha === destination.metadata.sha256;
}

async function headIfAny(backend: Backend, key: string): Promise<ObjectHead | undefined> {
  try {
    return await backend.head(key);
  } catch (err) {
    if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/** The keys the destination lacks, found by listing each snapshot folder they live in once. */
async function absentFrom(destination: Backend, keys: ReadonlySet<string>): Promise<string[]> {
  const folders = new Set<string>();
  for (const key of keys) folders.add(folderOf(key));
  const present = new Set<string>();
  for (const folder of folders) {
    for await (const object of destination.list(folder)) if (keys.has(object.key)) present.add(object.key);
  }
  return [...keys].filter((key) => !present.has(key));
}

/** `<host>/<stamp>/` of a content key: the folder of the snapshot that wrote it. */
function folderOf(key: string): string {
  const parts = key.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : key;
}
