import type { Backend } from '../backend/backend.js';
import { ConfigError, TwinvaultError } from '../errors.js';
import { kindOfKey } from '../repository/layout.js';
import { type RepoConfig, readRepoConfig } from '../repository/repo-config.js';

/**
 * What a destination is before a pass: the same repository already (a replica), or empty and
 * ready to become one. Anything else is refused: two repositories must never mix in one place.
 */
export type DestinationState = { kind: 'replica' } | { kind: 'empty'; bucketMissing: boolean };

export async function inspectDestination(
  source: Backend,
  sourceConfig: RepoConfig,
  destination: Backend,
): Promise<DestinationState> {
  if (overlap(source, destination)) {
    throw new ConfigError(
      `the replica ${destination.location} overlaps the repository ${source.location} (one lies inside the other)`,
      { hint: 'name another bucket, prefix or folder as the replica' },
    );
  }
  // Reading the config tells a missing bucket too, without HeadBucket (which a policy limiting
  // listings to the replica's prefix does not allow).
  let config: RepoConfig;
  try {
    config = await readRepoConfig(destination);
  } catch (err) {
    if (err instanceof TwinvaultError && err.code === 'BUCKET_NOT_FOUND') {
      return { kind: 'empty', bucketMissing: true };
    }
    if (!(err instanceof TwinvaultError && err.code === 'NOT_FOUND')) throw err;
    const stranger = await firstForeignKey(destination);
    if (stranger === undefined) return { kind: 'empty', bucketMissing: false };
    throw new ConfigError(
      `the replica ${destination.location} is not empty and holds no twinvault repository (it holds "${stranger}")`,
      { hint: 'name an empty location, or a replica made by "twinvault replicate" from this repository' },
    );
  }
  if (config.id !== sourceConfig.id) {
    throw new ConfigError(
      `the replica ${destination.location} holds another repository (id ${config.id}, not ${sourceConfig.id} of ${source.location})`,
      { hint: 'each replica belongs to one repository; name an empty location for this one' },
    );
  }
  return { kind: 'replica' };
}

async function firstForeignKey(destination: Backend): Promise<string | undefined> {
  for await (const object of destination.list()) {
    if (kindOfKey(object.key) !== 'local') return object.key;
  }
  return undefined;
}

/** Whether one location contains the other on the same store (a folder of the same path counts). */
function overlap(a: Backend, b: Backend): boolean {
  if (storeOf(a) !== storeOf(b)) return false;
  const [x, y] = [`${a.location}/`, `${b.location}/`];
  return x.startsWith(y) || y.startsWith(x);
}

/** Whether two backends are on one store with one identity: copies between them stay server-side. */
export function sameStore(a: Backend, b: Backend): boolean {
  const id = storeOf(a);
  return id !== '' && id === storeOf(b);
}

function storeOf(backend: Backend): string {
  const inner = (backend as { innermost?: () => Backend }).innermost?.() ?? backend;
  return (inner as { storeIdentity?: string }).storeIdentity ?? '';
}
