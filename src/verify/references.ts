import type { Backend } from '../backend/backend.js';
import { isTwinvaultError } from '../errors.js';
import { headerKeyMismatch } from '../repository/header-identity.js';
import { decodeManifest } from '../repository/manifest-codec.js';
import { listSnapshots, type SnapshotRef } from '../repository/snapshots.js';

/** What the snapshots say an object must be, and which snapshots need it. */
export interface ExpectedObject {
  size: number;
  sha256: string;
  /** Ids of the snapshots that reference it. */
  snapshots: string[];
}

export interface ManifestProblem {
  ref: SnapshotRef;
  message: string;
}

/**
 * Reads every manifest (streamed) and gathers what each referenced object must be. A manifest
 * that cannot be read, or whose header names another snapshot than its key, is a problem of its
 * own; its snapshot is the one it hurts (the objects a readable one names are still checked). One
 * that is gone since the listing was forgotten meanwhile (retention elsewhere): no problem, no
 * snapshot.
 */
export async function expectedObjects(
  backend: Backend,
  refs: readonly SnapshotRef[],
): Promise<{ objects: Map<string, ExpectedObject>; damaged: ManifestProblem[]; vanished: SnapshotRef[] }> {
  const objects = new Map<string, ExpectedObject>();
  const damaged: ManifestProblem[] = [];
  const vanished: SnapshotRef[] = [];
  for (const ref of refs) {
    let stream: Awaited<ReturnType<Backend['get']>>;
    try {
      stream = await backend.get(ref.key);
    } catch (err) {
      if (!isTwinvaultError(err) || err.code !== 'NOT_FOUND') throw err;
      vanished.push(ref);
      continue;
    }
    try {
      const { header, entries } = await decodeManifest(stream, `${backend.location}/${ref.key}`);
      const mismatch = headerKeyMismatch(header, ref);
      for await (const entry of entries) {
        if (entry.type !== 'file') continue;
        const known = objects.get(entry.key);
        if (known) {
          if (known.snapshots.at(-1) !== ref.id) known.snapshots.push(ref.id);
        } else {
          objects.set(entry.key, { size: entry.size, sha256: entry.sha256, snapshots: [ref.id] });
        }
      }
      if (mismatch) damaged.push({ ref, message: mismatch });
    } catch (err) {
      if (!isTwinvaultError(err) || !['INTEGRITY', 'NOT_FOUND'].includes(err.code)) throw err;
      damaged.push({ ref, message: err.message });
    }
  }
  return { objects, damaged, vanished };
}

/**
 * Problems of objects hurt only snapshots forgotten while verify ran (and so pruned) are no
 * problems: the snapshots still listed are the ones they hurt.
 */
export async function withoutForgotten<P extends { snapshots: string[] }>(
  backend: Backend,
  problems: P[],
): Promise<P[]> {
  if (problems.every((problem) => problem.snapshots.length === 0)) return problems;
  const listed = new Set((await listSnapshots(backend)).map((ref) => ref.id));
  return problems.flatMap((problem) => {
    if (problem.snapshots.length === 0) return [problem];
    const snapshots = problem.snapshots.filter((id) => listed.has(id));
    return snapshots.length === 0 ? [] : [{ ...problem, snapshots }];
  });
}
