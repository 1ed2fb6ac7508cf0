import type { DeletePolicy } from '../config/schema.js';
import type { TwinvaultError } from '../errors.js';

/** How deletions in the source reach a replica (see docs/REPLICATION.md). */
export interface DeleteRule {
  policy: DeletePolicy;
  /** With "delay": how long (ms) an object must have been gone from the source. */
  afterMs?: number;
}

/** What a replication reports as it goes, for logs and progress; the core never prints. */
export type ReplicationEvent =
  | { type: 'copied'; key: string; bytes: number; ms: number }
  /** The source object went away before it could be copied (retention ran meanwhile): not an error. */
  | { type: 'vanished'; key: string }
  | { type: 'failed'; key: string; error: TwinvaultError }
  /** A manifest left uncopied because objects it references are not in the replica. */
  | { type: 'held'; key: string; missing: string[] }
  | { type: 'deleted'; key: string };

export interface PassSummary {
  source: string;
  destination: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  /** What the destination lacked (or held differently) when the pass began. */
  behind: { objects: number; bytes: number; oldest: string | undefined };
  /** Objects the destination holds that the source does not (deleted there, or never its own). */
  extra: number;
  objects: {
    /** Source objects looked at (content and manifests). */
    checked: number;
    copied: number;
    copiedBytes: number;
    unchanged: number;
    vanished: number;
    failed: number;
  };
  manifests: { copied: number; held: number };
  deletes: { policy: DeletePolicy; deleted: number; waiting: number; kept: number };
  /** The first problems met (at most 100), each with its key. */
  problems: Array<{ key: string; message: string }>;
  /** Set when the pass stopped early (shouldStop): pass it as startAfter to go on. */
  resumeAfter?: string;
}

export const MAX_PROBLEMS = 100;

export function emptySummary(
  source: string,
  destination: string,
  dryRun: boolean,
  policy: DeletePolicy,
  now: Date,
): PassSummary {
  return {
    source,
    destination,
    dryRun,
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    behind: { objects: 0, bytes: 0, oldest: undefined },
    extra: 0,
    objects: { checked: 0, copied: 0, copiedBytes: 0, unchanged: 0, vanished: 0, failed: 0 },
    manifests: { copied: 0, held: 0 },
    deletes: { policy, deleted: 0, waiting: 0, kept: 0 },
    problems: [],
  };
}
