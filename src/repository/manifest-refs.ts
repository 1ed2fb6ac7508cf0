import type { Backend } from '../backend/backend.js';
import type { ManifestHeader } from './manifest.js';
import { decodeManifest } from './manifest-codec.js';

/**
 * Calls `found` with every object key a manifest references (its files' content), read as a
 * stream; returns the manifest's header.
 */
export async function forEachReference(
  backend: Backend,
  manifestKey: string,
  found: (key: string) => void,
): Promise<ManifestHeader> {
  const { header, entries } = await decodeManifest(
    await backend.get(manifestKey),
    `${backend.location}/${manifestKey}`,
  );
  for await (const entry of entries) if (entry.type === 'file') found(entry.key);
  return header;
}
