import type { Backend } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { isTwinvaultError, type TwinvaultError } from '../errors.js';
import { checkHeaderIdentity } from '../repository/header-identity.js';
import type { Entry } from '../repository/manifest.js';
import { type SalvagedManifest, salvageManifest } from '../repository/manifest-salvage.js';
import type { SnapshotRef } from '../repository/snapshots.js';

/** What a restore from a damaged manifest could not read (RestoreSummary.manifestDamage). */
export interface ManifestDamage {
  key: string;
  /** The copy the entries came from. */
  from: string;
  /** Entries the manifest's header lists. */
  listed: number;
  /** How many of them could not be read, so were not restored. */
  lost: number;
  /** Why, the first few: "line 17 is not valid JSON", "bytes from 4096 cannot be inflated ...". */
  problems: string[];
  /** The error the strict reading gave. */
  message: string;
}

/**
 * A restore's last resort when no copy of a manifest reads in full (DESIGN invariant 7: say what
 * and where, exit non-zero): the entries that can be read are restored, the rest reported. Every
 * copy is salvaged and the one giving the most entries is used. When no copy has a readable header
 * there is nothing to go on, and the strict error stands.
 */
export async function salvageEntries(
  copies: Backend[],
  snapshot: SnapshotRef,
  wanted: (entry: Entry) => boolean,
  strict: TwinvaultError,
): Promise<{ entries: Entry[]; damage: ManifestDamage }> {
  let best: { salvaged: SalvagedManifest; from: Backend } | undefined;
  for (const from of copies) {
    try {
      const data = await readAll(await from.get(snapshot.key));
      const where = `${from.location}/${snapshot.key}`;
      const salvaged = salvageManifest(data, where);
      // Another snapshot's manifest under this key gives no entries of this one.
      checkHeaderIdentity(salvaged.header, snapshot, where);
      if (!best || salvaged.entries.length > best.salvaged.entries.length) best = { salvaged, from };
    } catch (err) {
      if (!isTwinvaultError(err)) throw err;
    }
  }
  if (!best) throw strict;
  const { salvaged, from } = best;
  return {
    entries: salvaged.entries.filter(wanted),
    damage: {
      key: snapshot.key,
      from: from.location,
      listed: salvaged.header.entries,
      lost: salvaged.lost,
      problems: salvaged.problems,
      message: strict.message,
    },
  };
}
