import type { Entry } from '../../repository/manifest.js';
import { withRepository } from '../context.js';
import { escapeForTerminal as shown } from '../escape.js';
import { type GlobalOptions, printResult } from '../output.js';
import { findSnapshot, repositoryManifests, selectionOf } from '../snapshot-arg.js';

export interface SnapshotDiff {
  added: string[];
  removed: string[];
  /** Content or type differs. */
  changed: string[];
  /** Same content, but mode, mtime or owner differ. */
  metadata: string[];
}

export async function run(
  global: GlobalOptions,
  flags: { host?: string; source?: string },
  args: string[],
): Promise<void> {
  const [specA, specB] = args as [string, string];
  await withRepository(global, async (context) => {
    // Both sides are the repository's copies (a cached one only when proven to be it).
    const manifests = await repositoryManifests(context);
    const load = async (spec: string) => {
      const ref = await findSnapshot(global, context, spec, selectionOf(flags), manifests);
      const map = new Map<string, Entry>();
      for await (const entry of (await manifests.open(ref)).entries) map.set(entry.path, entry);
      return { ref, map };
    };
    const a = await load(specA);
    const b = await load(specB);
    const result = diffEntries(a.map, b.map);
    printResult(global, { from: a.ref.id, to: b.ref.id, ...result }, () => [
      ...result.added.map((path) => `+ ${shown(path)}`),
      ...result.removed.map((path) => `- ${shown(path)}`),
      ...result.changed.map((path) => `M ${shown(path)}`),
      ...result.metadata.map((path) => `U ${shown(path)}`),
      `${result.added.length} added, ${result.removed.length} removed, ${result.changed.length} changed, ${result.metadata.length} metadata only`,
    ]);
  });
}

export function diffEntries(a: Map<string, Entry>, b: Map<string, Entry>): SnapshotDiff {
  const diff: SnapshotDiff = { added: [], removed: [], changed: [], metadata: [] };
  for (const [path, before] of a) {
    const after = b.get(path);
    if (!after) diff.removed.push(path);
    else if (contentOf(before) !== contentOf(after)) diff.changed.push(path);
    else if (metadataOf(before) !== metadataOf(after)) diff.metadata.push(path);
  }
  for (const path of b.keys()) if (!a.has(path)) diff.added.push(path);
  return diff;
}

function contentOf(entry: Entry): string {
  if (entry.type === 'file') return `file:${entry.sha256}:${entry.size}`;
  if (entry.type === 'symlink') return `symlink:${entry.targetBytes ?? entry.target}`;
  return 'dir';
}

function metadataOf(entry: Entry): string {
  return `${entry.mode}:${entry.mtime}:${entry.uid}:${entry.gid}`;
}
