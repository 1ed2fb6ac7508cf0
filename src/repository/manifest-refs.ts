import type { Backend } from '../backend/backend.js';
import { decodeManifest } from './manifest-codec.js';

/** Calls `found` with every object key a manifest references (its files' content), read as a stream. */
export async function forEachReference(backend: Backend, manifestKey: string, found: (key: string) => void) {
  const { entries } = await decodeManifest(
    await backend.get(manifestKey),
    `${backend.location}/${manifestKey}`,
  );
  for await (const entry of entries) if (entry.type === 'file') found(entry.key);
}
