import { createHash } from 'node:crypto';
import type { Backend } from '../backend/backend.js';
import { isTwinvaultError } from '../errors.js';
import { stampFor } from '../repository/layout.js';

/** Leftovers of runs older than this are not looked for (they are uploaded again if needed). */
export const RESUME_WINDOW_MS = 30 * 86_400_000;

interface Candidate {
  stamp: string;
  size: number;
}

/**
 * What interrupted runs of this host left in the repository: objects under `<host>/<stamp>/` of
 * stamp folders that no manifest names. A run that was killed, lost power or lost the network
 * uploaded them, but no snapshot references them. The next run reuses each one whose file it
 * saves at the same path, when the object holds exactly that file's bytes: the same size (from
 * the listing) and the same SHA-256 — from the object's `sha256` metadata where the store keeps
 * metadata (S3: a backup stores an object under a key only when what it sent hashes to that
 * value, file-saver.ts), else by hashing the object itself (a local folder: read locally, cheaper
 * than writing it again). The new manifest references it at its old key.
 *
 * Listed once, the first time a file must be uploaded (a run with nothing to upload never lists),
 * and only the stamp folders after `after`: newer than the snapshot each source builds on (a run
 * that wrote it reused or replaced anything older) and at most RESUME_WINDOW_MS old. Leaving
 * folders out only costs uploads: correctness never depends on finding a leftover. So the listing
 * costs what the host uploaded since its sources' last snapshots, normally just the leftovers.
 *
 * Safe against prune: the run's shared lock names its host, and prune keeps every unreferenced
 * object of a host while a backup of that host holds a live lock (retention/prune.ts); a lock
 * that lapses fails the run before its manifest is written.
 */
export class Leftovers {
  private listing: Promise<Map<string, Candidate[]>> | undefined;
  private readonly ownPrefix: string;

  constructor(
    private readonly backend: Backend,
    private readonly host: string,
    /**
     * This run's stamp. Its own folder is looked at too: a run killed in the same second left its
     * objects at the very keys this run writes.
     */
    stamp: string,
    /** Stamps of this host's snapshots: their folders are referenced content, not leftovers. */
    private readonly named: Set<string>,
    /** Only stamp folders after this stamp are looked at. */
    private readonly after: string,
  ) {
    this.ownPrefix = `${host}/${stamp}/`;
  }

  /** The stamp that RESUME_WINDOW_MS before `now` stands for. */
  static windowStart(now: Date): string {
    return stampFor(new Date(now.getTime() - RESUME_WINDOW_MS), () => false);
  }

  /**
   * A leftover holding exactly this content for the file this run would store at `key`; the
   * newest first when several runs left one.
   */
  async find(key: string, size: number, sha256: string): Promise<string | undefined> {
    if (!key.startsWith(this.ownPrefix)) return undefined;
    const rest = key.slice(this.ownPrefix.length);
    for (const candidate of (await this.load()).get(rest) ?? []) {
      if (candidate.size !== size) continue;
      const old = `${this.host}/${candidate.stamp}/${rest}`;
      if (await this.holds(old, sha256)) return old;
    }
    return undefined;
  }

  private async holds(key: string, sha256: string): Promise<boolean> {
    try {
      if (this.backend.capabilities.metadata)
        return (await this.backend.head(key)).metadata.sha256 === sha256;
      const hash = createHash('sha256');
      for await (const chunk of await this.backend.get(key)) hash.update(chunk as Buffer);
      return hash.digest('hex') === sha256;
    } catch (err) {
      if (isTwinvaultError(err) && err.code === 'NOT_FOUND') return false; // gone meanwhile: upload
      throw err;
    }
  }

  private load(): Promise<Map<string, Candidate[]>> {
    this.listing ??= this.list();
    return this.listing;
  }

  private async list(): Promise<Map<string, Candidate[]>> {
    const found = new Map<string, Candidate[]>();
    const prefix = `${this.host}/`;
    // Keys of the folder `after` end before `<after>0` ('/' < '0'), and every later stamp's
    // folder (a later second, or `<after>_1`) sorts after it.
    for await (const object of this.backend.list(prefix, { startAfter: `${prefix}${this.after}0` })) {
      const slash = object.key.indexOf('/', prefix.length);
      if (slash < 0) continue;
      const stamp = object.key.slice(prefix.length, slash);
      if (!STAMP.test(stamp) || this.named.has(stamp)) continue;
      const rest = object.key.slice(slash + 1);
      const candidates = found.get(rest);
      if (candidates) candidates.unshift({ stamp, size: object.size });
      else found.set(rest, [{ stamp, size: object.size }]);
    }
    return found;
  }
}

const STAMP = /^\d{8}_\d{6}(?:_\d+)?$/;
