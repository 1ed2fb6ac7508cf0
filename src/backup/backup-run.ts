import type { Backend } from '../backend/backend.js';
import { RetryingBackend } from '../backend/wrap/retry.js';
import { type Clock, systemClock } from '../clock.js';
import { UsageError } from '../errors.js';
import { isValidHost } from '../repository/layout.js';
import { ManifestCache } from '../repository/manifest-cache.js';
import { type BackupOptions, type BackupSummary, newSummary } from './backup-options.js';
import type { BackupEventHandler } from './events.js';
import type { ScanHandle } from './scan/parallel-scan.js';
import { type NamedSource, nameSources } from './source-names.js';

/** What every phase of one backup shares, set up once at its start (startRun). */
export interface BackupRun {
  readonly options: BackupOptions;
  readonly clock: Clock;
  readonly started: Date;
  readonly onEvent: BackupEventHandler;
  /** The repository's backend, each call retried for a while when the store fails transiently. */
  readonly backend: Backend;
  readonly sources: NamedSource[];
  readonly cache: ManifestCache;
  readonly summary: BackupSummary;
  /** The scan under way (a watcher-driven run starts its own after the parents): stopped on failure. */
  scan: ScanHandle | undefined;
  /** Source roots that could not be read while scanned: the run fails (source-folder.ts). */
  readonly unreadableRoots: string[];
  /** An entry that cannot be read: left out, counted and reported. */
  skip(path: string, why: string): void;
  /** Something the user should know about an entry, which is still backed up. */
  note(path: string, message: string): void;
}

/** Checks the host and the sources' names and sets up what the phases share; touches no store. */
export function startRun(options: BackupOptions): BackupRun {
  const clock = options.clock ?? systemClock;
  const onEvent = options.onEvent ?? (() => {});
  const started = clock.now();
  // A store restarted or a network gone for a moment does not end the run: each call is retried
  // for a while, and each retry is reported (the CLI prints it).
  const backend = new RetryingBackend(options.repository.backend, {
    clock,
    ...(options.storeRetryMs === undefined ? {} : { retryForMs: options.storeRetryMs }),
    onRetry: (retry) => onEvent({ type: 'retrying', ...retry }),
  });
  if (!isValidHost(options.host)) {
    throw new UsageError(
      `"${options.host}" cannot be used as a host name (letters, digits, ".", "_" and "-")`,
    );
  }
  const sources = nameSources(options.sources);
  const summary = newSummary(options, sources, started);
  const rootNames = new Map(sources.map((source) => [source.name, source.path]));
  const unreadableRoots: string[] = [];
  return {
    options,
    clock,
    started,
    onEvent,
    backend,
    sources,
    cache: ManifestCache.forRepository(options.stateFolder, options.repository.config.id),
    summary,
    scan: undefined,
    unreadableRoots,
    skip(path, why) {
      const root = rootNames.get(path);
      if (root !== undefined) unreadableRoots.push(`the source folder ${root} could not be read: ${why}`);
      summary.skipped.push({ path, reason: why });
      summary.files.skipped++;
      onEvent({ type: 'skip', path, reason: why });
    },
    note(path, message) {
      summary.notes.push({ path, message });
      onEvent({ type: 'note', path, message });
    },
  };
}
