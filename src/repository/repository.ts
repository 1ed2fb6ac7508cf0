import { randomBytes } from 'node:crypto';
import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import type { Clock } from '../clock.js';
import { AlreadyExistsError, IntegrityError, StorageError, TwinvaultError } from '../errors.js';
import { CONFIG_KEY } from './layout.js';
import { newRepoConfig, type RepoConfig, readRepoConfig, writeRepoConfig } from './repo-config.js';

export interface Repository {
  backend: Backend;
  config: RepoConfig;
}

export async function openRepository(backend: Backend): Promise<Repository> {
  return { backend, config: await readRepoConfig(backend) };
}

export interface InitOptions {
  /** Create the repository even where other objects already are. */
  allowNonEmpty?: boolean;
  clock: Clock;
}

/**
 * Creates a repository: proves the location can be written, read, listed and deleted (with a
 * probe object), refuses one that holds a repository or, unless allowed, anything else, then
 * writes `.twinvault/config.json` create-only.
 */
export async function initRepository(backend: Backend, options: InitOptions): Promise<Repository> {
  const existing = await firstKeys(backend, 3);
  if (existing.includes(CONFIG_KEY) || (await hasConfig(backend))) {
    throw new AlreadyExistsError(`${backend.location} already holds a twinvault repository`, {
      hint: 'use it as it is; "twinvault snapshots" lists what it holds',
    });
  }
  if (existing.length > 0 && !options.allowNonEmpty) {
    throw new AlreadyExistsError(
      `${backend.location} is not empty (it holds ${existing.map((k) => `"${k}"`).join(', ')}${existing.length === 3 ? ', …' : ''})`,
      {
        hint: 'choose an empty location or prefix, or pass --allow-nonempty to create the repository beside them',
      },
    );
  }
  await probe(backend);
  const config = newRepoConfig(options.clock.now());
  try {
    await writeRepoConfig(backend, config);
  } catch (err) {
    if (err instanceof TwinvaultError && err.code === 'ALREADY_EXISTS') {
      throw new AlreadyExistsError(
        `${backend.location} already holds a twinvault repository (created just now by another process)`,
      );
    }
    throw err;
  }
  return { backend, config };
}

async function hasConfig(backend: Backend): Promise<boolean> {
  try {
    await backend.head(CONFIG_KEY);
    return true;
  } catch (err) {
    if (err instanceof TwinvaultError && err.code === 'NOT_FOUND') return false;
    throw err;
  }
}

async function firstKeys(backend: Backend, count: number): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of backend.list()) {
    keys.push(object.key);
    if (keys.length === count) break;
  }
  return keys;
}

async function probe(backend: Backend): Promise<void> {
  const key = `.twinvault/probe-${randomBytes(8).toString('hex')}`;
  const content = randomBytes(64);
  await backend.put(key, bodyFromBuffer(content));
  const back = await readAll(await backend.get(key));
  if (!back.equals(content))
    throw new IntegrityError(`${backend.location} returned different bytes than were written to ${key}`);
  let listed = false;
  for await (const object of backend.list('.twinvault/probe-')) if (object.key === key) listed = true;
  if (!listed) throw new StorageError(`${backend.location} does not list ${key} right after writing it`);
  await backend.delete(key);
  for await (const object of backend.list('.twinvault/probe-')) {
    if (object.key === key)
      throw new StorageError(`${backend.location} still lists ${key} after deleting it`);
  }
}
