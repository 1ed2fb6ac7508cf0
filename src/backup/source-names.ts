import { basename, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { BackupSource } from './backup-options.js';

export type NamedSource = BackupSource & { name: string };

/**
 * Each source with its absolute path and its name in snapshot paths (default: the folder's base
 * name). Two sources with one name would mix their entries: refused, as is a name with a "/".
 */
export function nameSources(sources: BackupSource[]): NamedSource[] {
  if (sources.length === 0)
    throw new UsageError('nothing to back up: give folders on the command line or "sources" in the config');
  const named = sources.map((source) => ({
    ...source,
    path: resolve(source.path),
    name: source.name ?? basename(resolve(source.path)),
  }));
  const seen = new Map<string, string>();
  for (const source of named) {
    if (!source.name || source.name === '/' || source.name.includes('/')) {
      throw new UsageError(`source ${source.path} needs a name (set "name" in the config)`);
    }
    const other = seen.get(source.name);
    if (other)
      throw new UsageError(
        `two sources are named "${source.name}" (${other} and ${source.path}); name one of them in the config`,
      );
    seen.set(source.name, source.path);
  }
  return named;
}
