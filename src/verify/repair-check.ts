import { createHash } from 'node:crypto';
import type { Backend } from '../backend/backend.js';
import { readAll } from '../backend/body.js';
import { IntegrityError, isTwinvaultError } from '../errors.js';
import { headerKeyMismatch } from '../repository/header-identity.js';
import { parseManifestKey } from '../repository/layout.js';
import { decodeManifestAll } from '../repository/manifest-codec.js';
import { readRepoConfig } from '../repository/repo-config.js';
import { refFor } from '../repository/snapshots.js';
import type { Problem } from './verify.js';

/** An object's SHA-256 and length, read in full. */
export async function hashObject(backend: Backend, key: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await backend.get(key)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Reads back what a repair wrote, as a restore would read it: an object's bytes against the
 * SHA-256 the snapshots expect, a manifest in full (and its header against its key), the config.
 * A store that acknowledged a write it did not keep, or a copy damaged on its way, is caught here
 * rather than by the next verify. Throws an IntegrityError saying what is still wrong.
 */
export async function readBack(target: Backend, problem: Problem): Promise<void> {
  const still = (what: string, cause?: unknown) =>
    new IntegrityError(`${problem.key} is still ${what} after the repair`, {
      ...(cause === undefined ? {} : { cause }),
    });
  try {
    if (problem.kind === 'config') {
      await readRepoConfig(target);
      return;
    }
    if (problem.kind === 'damaged-manifest') {
      const where = `${target.location}/${problem.key}`;
      const { header } = await decodeManifestAll(await readAll(await target.get(problem.key)), where);
      const parsed = parseManifestKey(problem.key);
      const mismatch = parsed ? headerKeyMismatch(header, refFor(parsed.host, parsed.stamp)) : undefined;
      if (mismatch) throw still(`wrong: ${mismatch}`);
      return;
    }
    const expected = problem.expected!;
    const { sha256, size } = await hashObject(target, problem.key);
    if (size !== expected.size) throw still(`${size} bytes where the snapshots say ${expected.size}`);
    if (sha256 !== expected.sha256) throw still('not what the snapshots say (its SHA-256 differs)');
  } catch (err) {
    if (err instanceof IntegrityError && err.message.includes('after the repair')) throw err;
    if (!isTwinvaultError(err)) throw err;
    throw still(`unreadable (${err.message})`, err);
  }
}
