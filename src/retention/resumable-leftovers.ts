import type { ObjectInfo } from '../backend/backend.js';
import { RESUME_WINDOW_MS } from '../backup/leftovers.js';
import { FALLBACK_FOLDER } from '../repository/layout.js';
import type { ManifestHeader } from '../repository/manifest.js';

/**
 * What prune keeps of the uploads of an interrupted backup, so that the next backup of the host
 * can resume instead of sending them again (backup/leftovers.ts): an unreferenced object under
 * `<host>/<stamp>/<source>/` whose stamp is newer than the newest snapshot of that host holding
 * that source, and that is younger than RESUME_WINDOW_MS. The next backup of the source would
 * build on that newest snapshot and looks for leftovers after it; anything older was reused or
 * replaced by a run that completed. A forgotten snapshot's objects never count: forget never
 * removes the newest snapshot of a source, so a forgotten one is always older than it. Files of a
 * fallback folder (`_twinvault_fallback`, names the key cannot hold) may belong to any source:
 * they count against the host's oldest such newest snapshot. Past the window, leftovers go.
 */
export class ResumableLeftovers {
  /** Per host, per source name: the stamp of the newest snapshot holding it. */
  private readonly newest = new Map<string, Map<string, string>>();

  constructor(private readonly now: Date) {}

  /** Told of every snapshot that stays. */
  add(header: ManifestHeader): void {
    const sources = this.newest.get(header.host) ?? new Map<string, string>();
    this.newest.set(header.host, sources);
    for (const { name } of header.sources) {
      const held = sources.get(name);
      if (held === undefined || later(header.stamp, held)) sources.set(name, header.stamp);
    }
  }

  /** Whether an unreferenced content object may still be taken up by a backup that resumes. */
  keeps(object: ObjectInfo): boolean {
    if (this.now.getTime() - object.lastModified.getTime() >= RESUME_WINDOW_MS) return false;
    const [host, stamp, source] = object.key.split('/', 3);
    if (host === undefined || stamp === undefined || source === undefined) return false;
    const sources = this.newest.get(host);
    if (!sources) return true; // the host has no snapshot yet: a first backup was interrupted
    const newest =
      source === FALLBACK_FOLDER
        ? [...sources.values()].reduce<string | undefined>(
            (a, b) => (a === undefined || later(a, b) ? b : a),
            undefined,
          )
        : sources.get(source);
    return newest === undefined || later(stamp, newest);
  }
}

/** Stamps in time order: `_N` suffixes of one second compare by number. */
function later(a: string, b: string): boolean {
  const [secondA, suffixA] = [a.slice(0, 15), Number(a.slice(16) || 0)];
  const [secondB, suffixB] = [b.slice(0, 15), Number(b.slice(16) || 0)];
  return secondA === secondB ? suffixA > suffixB : secondA > secondB;
}
