import type { Parents } from './parents.js';
import { collapseFocus, focusPaths } from './scan/focus.js';

/**
 * For each source, the paths a watcher-driven backup looks at (relative to the source root), or
 * undefined where it must scan in full: no parent to carry the rest from, or the root itself
 * changed. Hard-linked files are always looked at again: their link groups are numbered afresh
 * in each snapshot, so none can be carried over blind.
 */
export function focusOf(
  sources: Array<{ name: string; path: string }>,
  parents: Parents,
  changedPaths: string[],
): Array<string[] | undefined> {
  return sources.map((source) => {
    const parent = parents.bySource.get(source.name);
    const changed = parent && focusPaths(source.path, changedPaths);
    if (!parent || !changed) return undefined;
    const prefix = `${source.name}/`;
    const hardLinks: string[] = [];
    for (let i = 0; i < parent.size; i++) {
      if (parent.signature(i) !== '' || !parent.path(i).startsWith(prefix)) continue;
      const entry = parent.entry(i);
      if (entry.type === 'file' && entry.linkGroup !== undefined)
        hardLinks.push(entry.path.slice(prefix.length));
    }
    return collapseFocus([...changed, ...hardLinks]);
  });
}
