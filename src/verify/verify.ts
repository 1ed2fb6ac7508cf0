import { createHash } from 'node:crypto';
import type { Backend, ObjectInfo } from '../backend/backend.js';
import { isTwinvaultError } from '../errors.js';
import { kindOfKey } from '../repository/layout.js';
import { readRepoConfig } from '../repository/repo-config.js';
import { listSnapshots } from '../repository/snapshots.js';
import { runPool } from '../util/pool.js';
import {
  type ArchivedReadPolicy,
  type ArchivedReadReport,
  noteArchivedOnRead,
  skipArchived,
} from './archived.js';
import { isSelected, type ReadSubset } from './read-subset.js';
import { expectedObjects, withoutForgotten } from './references.js';

export type ProblemKind = 'config' | 'damaged-manifest' | 'missing' | 'wrong-size' | 'corrupt' | 'unreadable';

export interface Problem {
  kind: ProblemKind;
  key: string;
  /** Ids of the snapshots it hurts. */
  snapshots: string[];
  message: string;
  /** What the object must be, per the manifests (content problems). */
  expected?: { size: number; sha256: string };
}

export interface VerifyResult {
  location: string;
  snapshots: number;
  /** Objects the snapshots reference, all checked for presence and size. */
  objects: number;
  readData?: { objects: number; bytes: number };
  /** With readData: archived objects chosen, and what became of them (archived.ts). */
  archived?: ArchivedReadReport;
  problems: Problem[];
}

export interface VerifyOptions {
  readData?: ReadSubset;
  concurrency?: number;
  /** Which archived objects readData reads; default: none, reported as not read (skipArchived). */
  archived?: ArchivedReadPolicy;
}

/**
 * Checks a repository: its config and every manifest parse; every object a manifest references
 * exists with the right size (from one listing, not a HEAD each); with readData, the chosen
 * objects are downloaded and their SHA-256 compared with the manifests'. Every problem names the
 * key and the snapshots it hurts.
 */
export async function verifyRepository(backend: Backend, options: VerifyOptions = {}): Promise<VerifyResult> {
  return (await verifyInDetail(backend, options)).result;
}

/** verifyRepository, and the keys of the objects it checked (those the readable manifests name). */
export async function verifyInDetail(
  backend: Backend,
  options: VerifyOptions = {},
): Promise<{ result: VerifyResult; checked: ReadonlySet<string> }> {
  const problems: Problem[] = [];
  const refs = await listSnapshots(backend);
  try {
    await readRepoConfig(backend);
  } catch (err) {
    // A missing config where snapshots are is damage; with neither, there is no repository here.
    const missing = isTwinvaultError(err) && err.code === 'NOT_FOUND' && refs.length > 0;
    if (!isTwinvaultError(err) || !(err.code === 'INTEGRITY' || missing)) throw err;
    problems.push({
      kind: 'config',
      key: '.twinvault/config.json',
      snapshots: [],
      message: missing ? 'is missing' : err.message,
    });
  }
  const { objects: expected, damaged, vanished } = await expectedObjects(backend, refs);
  for (const { ref, message } of damaged) {
    problems.push({ kind: 'damaged-manifest', key: ref.key, snapshots: [ref.id], message });
  }

  const present: string[] = [];
  const seen = new Set<string>();
  const archived = new Map<string, ObjectInfo>();
  for await (const object of backend.list()) {
    if (kindOfKey(object.key) !== 'content') continue;
    const wanted = expected.get(object.key);
    if (!wanted) continue;
    if (object.size !== wanted.size) {
      problems.push({
        kind: 'wrong-size',
        key: object.key,
        snapshots: wanted.snapshots,
        message: `holds ${object.size} bytes where the snapshots say ${wanted.size}`,
        expected: { size: wanted.size, sha256: wanted.sha256 },
      });
    } else {
      present.push(object.key);
      if (object.archive !== undefined) archived.set(object.key, object);
    }
    seen.add(object.key);
  }
  for (const [key, wanted] of expected) {
    if (!seen.has(key)) {
      problems.push({
        kind: 'missing',
        key,
        snapshots: wanted.snapshots,
        message: 'is missing',
        expected: { size: wanted.size, sha256: wanted.sha256 },
      });
    }
  }

  const result: VerifyResult = {
    location: backend.location,
    snapshots: refs.length - vanished.length,
    objects: expected.size,
    problems,
  };
  if (options.readData) {
    const subset = options.readData;
    let chosen = present.filter((key) => isSelected(subset, key));
    const chosenArchived = chosen.flatMap((key) => archived.get(key) ?? []);
    if (chosenArchived.length > 0) {
      const decided = await (options.archived ?? skipArchived)(backend, chosenArchived);
      chosen = chosen.filter((key) => !archived.has(key) || decided.read.has(key));
      result.archived = decided.report;
    }
    const read = { objects: 0, bytes: 0 };
    await runPool(chosen, options.concurrency ?? 16, async (key) => {
      const wanted = expected.get(key)!;
      const hash = createHash('sha256');
      let bytes = 0;
      try {
        for await (const chunk of await backend.get(key)) {
          hash.update(chunk as Buffer);
          bytes += (chunk as Buffer).length;
        }
      } catch (err) {
        if (!isTwinvaultError(err)) throw err;
        if (err.code === 'ARCHIVED') {
          result.archived = noteArchivedOnRead(result.archived, key, wanted.size);
          return;
        }
        if (err.code !== 'NOT_FOUND') {
          problems.push({
            kind: 'unreadable',
            key,
            snapshots: wanted.snapshots,
            message: `cannot be read: ${err.message}`,
            expected: { size: wanted.size, sha256: wanted.sha256 },
          });
          return;
        }
        problems.push({
          kind: 'missing',
          key,
          snapshots: wanted.snapshots,
          message: 'vanished while being read',
        });
        return;
      }
      read.objects++;
      read.bytes += bytes;
      const digest = hash.digest('hex');
      if (digest !== wanted.sha256) {
        problems.push({
          kind: 'corrupt',
          key,
          snapshots: wanted.snapshots,
          message: `its SHA-256 is ${digest.slice(0, 16)}…, the snapshots say ${wanted.sha256.slice(0, 16)}…`,
          expected: { size: wanted.size, sha256: wanted.sha256 },
        });
      }
    });
    result.readData = read;
  }
  result.problems = await withoutForgotten(backend, problems);
  result.problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { result, checked: new Set(expected.keys()) };
}
