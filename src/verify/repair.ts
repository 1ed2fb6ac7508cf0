import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { ConfigError, isTwinvaultError } from '../errors.js';
import { decodeManifestBuffer } from '../repository/manifest-codec.js';
import { readRepoConfig } from '../repository/repo-config.js';
import { runPool } from '../util/pool.js';
import type { ReadSubset } from './read-subset.js';
import { type Problem, verifyRepository } from './verify.js';

export interface RepairResult {
  /** What verify found in the repository being repaired. */
  found: Problem[];
  repaired: string[];
  /** Problems the healthy copy could not fix (it lacks the object, or its copy is bad too). */
  unrepaired: Array<{ key: string; message: string }>;
  dryRun: boolean;
}

/**
 * Heals `target` from `healthy` (a replica into the primary, or the other way): verifies the
 * target, then for each missing, wrong-size, corrupt object or damaged manifest fetches the
 * healthy copy, checks it (SHA-256 for objects, a full parse for manifests) before writing, and
 * writes only over what is broken. Objects are staged in a temporary file, so none is held whole
 * in memory and nothing unchecked reaches the target.
 */
export async function repairRepository(
  target: Backend,
  healthy: Backend,
  options: { dryRun?: boolean; readData?: ReadSubset } = {},
): Promise<RepairResult> {
  const [targetConfig, healthyConfig] = await Promise.all([
    readRepoConfig(target).catch(() => undefined),
    readRepoConfig(healthy),
  ]);
  if (targetConfig && targetConfig.id !== healthyConfig.id) {
    throw new ConfigError(
      `${healthy.location} holds another repository (id ${healthyConfig.id}) than ${target.location} (id ${targetConfig.id})`,
    );
  }
  const verified = await verifyRepository(target, options.readData ? { readData: options.readData } : {});
  const result: RepairResult = {
    found: verified.problems,
    repaired: [],
    unrepaired: [],
    dryRun: options.dryRun ?? false,
  };
  const staging = await mkdtemp(join(tmpdir(), 'twinvault-repair-'));
  try {
    await runPool(verified.problems, 8, async (problem) => {
      try {
        const fixed = await fetchChecked(healthy, problem, staging);
        if (!result.dryRun) await fixed.write(target);
        result.repaired.push(problem.key);
      } catch (err) {
        result.unrepaired.push({
          key: problem.key,
          message: isTwinvaultError(err) || err instanceof Error ? err.message : String(err),
        });
      }
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  result.repaired.sort();
  return result;
}

/** The healthy copy of what a problem names, checked; write() puts it into the target. */
async function fetchChecked(
  healthy: Backend,
  problem: Problem,
  staging: string,
): Promise<{ write(target: Backend): Promise<void> }> {
  if (problem.kind === 'config' || problem.kind === 'damaged-manifest') {
    const data = await readAll(await healthy.get(problem.key));
    if (problem.kind === 'config') JSON.parse(data.toString('utf8'));
    else decodeManifestBuffer(data, `${healthy.location}/${problem.key}`);
    const head = await healthy.head(problem.key);
    return {
      write: (target) =>
        target.put(
          problem.key,
          bodyFromBuffer(data),
          head.contentType ? { contentType: head.contentType } : {},
        ),
    };
  }
  const expected = problem.expected!;
  const head = await healthy.head(problem.key);
  if (head.size !== expected.size) {
    throw new Error(
      `the healthy copy in ${healthy.location} holds ${head.size} bytes, not ${expected.size}: it cannot repair this`,
    );
  }
  const file = join(staging, createHash('sha256').update(problem.key).digest('hex'));
  const hash = createHash('sha256');
  const source = await healthy.get(problem.key);
  source.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(source, createWriteStream(file));
  const digest = hash.digest('hex');
  if (digest !== expected.sha256) {
    throw new Error(`the healthy copy in ${healthy.location} fails its SHA-256 too: it cannot repair this`);
  }
  return {
    write: (target) =>
      target.put(
        problem.key,
        { size: expected.size, open: () => createReadStream(file) },
        {
          metadata: { ...head.metadata, sha256: expected.sha256 },
          sha256: expected.sha256,
          ...(head.contentType ? { contentType: head.contentType } : {}),
        },
      ),
  };
}
