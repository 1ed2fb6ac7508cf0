import { sep } from 'node:path';
import { CACHEDIR_TAG, IGNORE_FILE } from './ignore-rules.js';

/** A path with "/" separators (Windows gives "\\"), as snapshot paths are written. */
export function withSlashes(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/**
 * Changed paths (absolute, as a watcher reports them) as the walker's focus on one source: made
 * relative to its root, with paths inside others dropped (the outer one is walked whole) and a
 * changed ignore file or cache tag standing for its whole folder. Undefined when the source must
 * be scanned in full: the change reaches its root, or a name is not valid UTF-8 (the watcher's
 * text cannot name it exactly). [] when no change is inside it.
 */
export function focusPaths(sourceRoot: string, changed: string[]): string[] | undefined {
  const root = withSlashes(sourceRoot);
  const prefix = root.endsWith('/') ? root : `${root}/`; // a source at "/" or "C:/"
  const relative = new Set<string>();
  for (const path of changed.map(withSlashes)) {
    if (path === root || path.includes('\uFFFD')) return undefined;
    if (!path.startsWith(prefix)) continue;
    let inside = path.slice(prefix.length).replace(/\/+$/, '');
    if (inside === '') return undefined;
    const slash = inside.lastIndexOf('/');
    const name = inside.slice(slash + 1);
    if (name === IGNORE_FILE || name === CACHEDIR_TAG) {
      if (slash < 0) return undefined;
      inside = inside.slice(0, slash);
    }
    relative.add(inside);
  }
  return collapseFocus(relative);
}

/** Paths without those inside others (the outer one is walked whole), sorted. */
export function collapseFocus(paths: Iterable<string>): string[] {
  const all = new Set(paths);
  return [...all].filter((path) => !hasAncestorIn(path, all)).sort();
}

/** Whether `path` is one of `focus` or inside one. */
export function isFocused(path: string, focus: Set<string>): boolean {
  return focus.has(path) || hasAncestorIn(path, focus);
}

function hasAncestorIn(path: string, paths: Set<string>): boolean {
  for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1))
    if (paths.has(path.slice(0, slash))) return true;
  return false;
}
