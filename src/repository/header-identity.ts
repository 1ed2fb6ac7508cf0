import { IntegrityError } from '../errors.js';
import { stampTime } from './layout.js';
import type { ManifestHeader } from './manifest.js';
import type { SnapshotRef } from './snapshots.js';

/**
 * What is wrong with a manifest's header for the key it is stored under, if anything. A backup
 * names the manifest after its host and start time (layout.ts) and derives the id from both, so a
 * header that says otherwise belongs to another snapshot: copied or forged under this key (a
 * forged time is how one snapshot "from 2031" would steer retention).
 */
export function headerKeyMismatch(header: ManifestHeader, ref: SnapshotRef): string | undefined {
  const wrong: string[] = [];
  if (header.host !== ref.host) wrong.push(`host "${header.host}"`);
  if (header.stamp !== ref.stamp) wrong.push(`stamp ${header.stamp}`);
  if (header.id !== ref.id) wrong.push(`id ${header.id}`);
  const time = Date.parse(header.time);
  if (!Number.isFinite(time) || Math.floor(time / 1000) * 1000 !== stampTime(ref.stamp).getTime()) {
    wrong.push(`time ${header.time}`);
  }
  if (wrong.length === 0) return undefined;
  return `its header names another snapshot (${wrong.join(', ')}) than its key (host "${ref.host}", stamp ${ref.stamp}, id ${ref.id}): it was copied or forged under this key`;
}

/**
 * Refuses a manifest read for `ref` whose header names another snapshot: restoring, listing or
 * building on it would give another snapshot's files under this one's name (two manifests
 * swapped, or one copied over another), and retention would decide on the wrong time.
 */
export function checkHeaderIdentity(header: ManifestHeader, ref: SnapshotRef, where: string): void {
  const wrong = headerKeyMismatch(header, ref);
  if (wrong === undefined) return;
  throw new IntegrityError(`manifest ${where} is damaged: ${wrong}`, {
    hint: 'run "twinvault verify"; "twinvault repair --from REPLICA" puts back an intact copy',
  });
}
