import type { Backend } from '../../src/backend/backend.js';
import { DAMAGES } from './damage.js';
import {
  backupOp,
  ChaosViolation,
  checkIntactRestore,
  forgetOp,
  type Operation,
  pruneOp,
  restoreDamagedOp,
  verifyOp,
} from './operations.js';
import { Random } from './random.js';
import { World } from './world.js';

const OPERATIONS: Array<[Operation, number]> = [
  [backupOp, 4],
  [forgetOp, 3],
  [pruneOp, 1],
  [verifyOp, 2],
  [restoreDamagedOp, 2],
];

function weighted(random: Random): Operation {
  let roll = random.int(OPERATIONS.reduce((sum, [, weight]) => sum + weight, 0));
  for (const [operation, weight] of OPERATIONS) {
    roll -= weight;
    if (roll < 0) return operation;
  }
  return backupOp;
}

/**
 * One chaos run: a few honest backups, then rounds of random damage followed by random
 * operations, checking after each round that every intact snapshot still restores exactly.
 * Returns the story (what was done), so a failure can be replayed and understood from its seed.
 */
export async function chaosRun(seed: number, backend: Backend, rounds: number): Promise<string[]> {
  const random = new Random(seed);
  const world = await World.create(backend, random);
  const story: string[] = [`seed ${seed}`];
  try {
    for (let i = 0; i < 3; i++) await backupOp(world, story);
    for (let round = 0; round < rounds; round++) {
      const damages = Object.entries(DAMAGES);
      for (let d = random.int(3); d > 0; d--) {
        const [name, damage] = random.pick(damages);
        story.push(`damage ${name}: ${(await damage(world)) ?? 'nothing to damage'}`);
      }
      for (let o = 1 + random.int(3); o > 0; o--) await weighted(random)(world, story);
      await checkIntactRestore(world);
    }
    return story;
  } catch (err) {
    if (err instanceof ChaosViolation) err.message += `\n  after: ${story.join('\n    ')}`;
    throw err;
  } finally {
    await world.cleanup();
  }
}
