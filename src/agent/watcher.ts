import { realpath } from 'node:fs/promises';
import watcher from '@parcel/watcher';
import { withSlashes } from '../backup/scan/focus.js';

export interface WatchHandlers {
  /** Paths (absolute) created, changed or deleted. */
  changed(paths: string[]): void;
  /** The watcher failed or lost events: what changed is unknown, so a full scan is owed. */
  lost(error: Error): void;
}

/**
 * Watches a folder recursively with the operating system's own events (inotify, FSEvents,
 * ReadDirectoryChangesW) through @parcel/watcher. Paths under `ignore` (the agent's own state and
 * log, should they lie inside a source) are dropped, or each backup would cause the next.
 */
export async function watchFolder(
  folder: string,
  ignore: string[],
  handlers: WatchHandlers,
): Promise<{ close(): Promise<void> }> {
  const prefixes = ignore.map(withSlashes);
  const ignored = (path: string) =>
    prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  // Events name the real path (macOS reports /private/var/... for /var/...): put them back under
  // the folder as configured, with "/" separators, as the backup names paths.
  const real = withSlashes(await realpath(folder));
  const configured = withSlashes(folder);
  const asConfigured = (path: string) => {
    const slashed = withSlashes(path);
    return slashed === real || slashed.startsWith(`${real}/`)
      ? configured + slashed.slice(real.length)
      : slashed;
  };
  const subscription = await watcher.subscribe(folder, (error, events) => {
    if (error) {
      handlers.lost(error);
      return;
    }
    const paths = events.map((event) => asConfigured(event.path)).filter((path) => !ignored(path));
    if (paths.length > 0) handlers.changed(paths);
  });
  return { close: () => subscription.unsubscribe() };
}
