import { isDeepStrictEqual } from 'node:util';
import { LocalPathError } from '../errors.js';
import { joinBytes } from '../fs/names.js';
import type { Entry, FileEntry, ManifestHeader } from '../repository/manifest.js';
import type { IndexColumns } from '../repository/manifest-index.js';
import type { WrittenManifest } from '../repository/manifest-writer.js';
import {
  baseEntry,
  changeFields,
  isUnchanged,
  type ScanItem,
  sameMetadata,
  symlinkEntry,
  withLinkGroup,
} from './entry-fields.js';
import type { BackupEventHandler } from './events.js';
import { FreshEntries } from './fresh-entries.js';
import { mergeInto } from './manifest-merge.js';
import type { ParentManifest } from './parent-manifest.js';
import { isFocused } from './scan/focus.js';
import type { ScanConsumer } from './scan/parallel-scan.js';
import {
  entrySignature,
  lookupKey,
  matchesSignature,
  parseStatText,
  RECORD_FIELDS,
  sizeOf,
} from './scan/records.js';
import { reason } from './scan/walker.js';

export interface BuilderHooks {
  onEvent: BackupEventHandler;
  skip(path: string, reason: string): void;
  note(path: string, message: string): void;
  /**
   * A new or changed file: to be read and stored (its item made by itemFor() when its turn
   * comes), then handed back through addSaved().
   */
  save(record: ScanRecord, previous: FileEntry | undefined): void;
  /** Whether the save queue is full: matching pauses until resume(). */
  full(): boolean;
}

/** Past this many entries looked at again, a snapshot is written without comparing them. */
const SAME_CHECK_LIMIT = 10_000;

/**
 * A scan record as it arrived. Saves wait in a queue while the scan runs ahead of the uploads
 * (an initial backup can have a hundred thousand waiting); kept as these three strings rather
 * than as items, each waiting file costs a few dozen bytes instead of several hundred.
 */
export interface ScanRecord {
  path: string;
  pathBytes: string | undefined;
  stat: string;
}

export interface BuilderCounts {
  files: { unchanged: number };
  dirs: number;
  symlinks: number;
  bytesTotal: number;
}

/** What the scan found, for the progress bar: all files, and those that must be read. */
export interface ScanTotals {
  files: number;
  dirs: number;
  bytes: number;
  toRead: number;
  bytesToRead: number;
}

/**
 * Builds the new snapshot from scan records. A record whose signature equals its parent entry's
 * carries that entry over as it is: no object is made for it, and its manifest line (often its
 * whole compressed block) is copied. Everything else becomes a fresh entry, read and stored first
 * when it is a new or changed file. The manifest is a merge, in path order, of the carried entries
 * and the fresh ones.
 */
export class SnapshotBuilder implements ScanConsumer {
  readonly totals: ScanTotals = { files: 0, dirs: 0, bytes: 0, toRead: 0, bytesToRead: 0 };
  private parents: Map<string, ParentManifest> | undefined;
  private closed = false;
  /** A focused run: per source, the paths looked at (undefined: all), and what was recorded. */
  private focus:
    | { paths: Map<string, Set<string> | undefined>; seen: Set<string>; applied: boolean }
    | undefined;
  /** Batches not yet matched: waiting for the parents, or for room in the save queue. */
  private backlog: string[] = [];
  private current: { fields: string[]; at: number } | undefined;
  private readonly fresh = new FreshEntries();
  private readonly linkGroups = new Map<string, number>();
  private readonly symlinks: Array<Promise<void>> = [];
  private readonly roots: Map<string, string>;
  /** Sources the scan recorded anything in below the root. */
  private readonly filled = new Set<string>();

  constructor(
    sources: Array<{ name: string; path: string }>,
    private readonly counts: BuilderCounts,
    private readonly hooks: BuilderHooks,
  ) {
    this.roots = new Map(sources.map((source) => [source.name, source.path]));
  }

  /** Records arrive from the start of the scan; they are matched once the parents are known. */
  useParents(parents: Map<string, ParentManifest>): void {
    this.parents = parents;
    this.resume();
  }

  /**
   * Only these paths are scanned (see Walker.addFocus); every other entry of the parents that
   * belongs to a source of this run is carried over as it is.
   */
  focusOn(paths: Map<string, string[] | undefined>): void {
    const sets = new Map([...paths].map(([name, list]) => [name, list && new Set(list)]));
    this.focus = { paths: sets, seen: new Set(), applied: false };
  }

  /** The run failed: later records are ignored, and no more saves are asked for. */
  close(): void {
    this.closed = true;
    this.backlog = [];
    this.current = undefined;
  }

  records(batch: string): void {
    if (this.closed) return;
    this.backlog.push(batch);
    this.resume();
  }

  /**
   * Matches waiting records until the save queue is full (hooks.full()); the backup calls this
   * again when it has room. So a scan far ahead of the uploads holds its records as compact
   * batches, not as queued saves.
   */
  resume(): void {
    if (!this.parents || this.closed) return;
    while (!this.hooks.full()) {
      if (!this.current) {
        const batch = this.backlog.shift();
        if (batch === undefined) return;
        this.current = { fields: batch.split('\0'), at: 0 };
      }
      const { fields } = this.current;
      this.match(fields, this.current.at);
      this.current.at += RECORD_FIELDS;
      if (this.current.at >= fields.length) this.current = undefined;
    }
  }

  /**
   * Whether the new snapshot would hold exactly `parent`'s entries: every one carried over or, for
   * those always looked at again (symlinks, hard links), found equal. Then there is nothing to
   * write (the agent's scheduled scans of a quiet folder leave no snapshot).
   */
  async sameAs(parent: ParentManifest): Promise<boolean> {
    await Promise.all(this.symlinks);
    this.carryUnfocused();
    if (this.pending || this.fresh.size > SAME_CHECK_LIMIT) return false;
    let notCarried = 0;
    for (const mark of parent.carried) if (mark === 0) notCarried++;
    if (notCarried !== this.fresh.size) return false;
    this.fresh.sort();
    for (let n = 0; n < this.fresh.size; n++) {
      const entry = this.fresh.entry(n);
      const at = parent.indexOf(lookupKey(entry.path, entry.pathBytes));
      if (at === undefined || parent.carried[at]) return false;
      if (!isDeepStrictEqual(JSON.parse(entry.line), parent.entry(at))) return false;
    }
    return true;
  }

  /** Whether the scan recorded anything below the source's root (once every record is matched). */
  scannedAnythingIn(source: string): boolean {
    return this.filled.has(source);
  }

  /** Whether records are still waiting to be matched. */
  get pending(): boolean {
    return this.current !== undefined || this.backlog.length > 0;
  }

  skip(path: string, why: string): void {
    this.hooks.skip(path, why);
  }

  note(path: string, message: string): void {
    this.hooks.note(path, message);
  }

  /** A file that was read and stored. */
  addSaved(entry: FileEntry, item: ScanItem): void {
    this.addFresh(withLinkGroup(entry, item, this.linkGroups));
  }

  /** Merges carried and fresh entries into the manifest, with the columns of its local index. */
  async write(
    headerFor: (entries: number) => ManifestHeader,
  ): Promise<{ written: WrittenManifest; columns: IndexColumns }> {
    if (this.pending)
      throw new Error('internal error: the manifest was written before every record was matched');
    await Promise.all(this.symlinks);
    this.carryUnfocused();
    const parents = [...new Set(this.parents?.values())];
    let entries = this.fresh.size;
    for (const parent of parents) for (const mark of parent.carried) entries += mark;
    return mergeInto(headerFor(entries), parents, this.fresh);
  }

  private match(fields: string[], r: number): void {
    const path = fields[r]!;
    const pathBytes = fields[r + 1] || undefined;
    const stat = fields[r + 2]!;
    this.focus?.seen.add(lookupKey(path, pathBytes));
    const slash = path.indexOf('/');
    const source = slash < 0 ? path : path.slice(0, slash);
    if (slash >= 0) this.filled.add(source);
    const parent = this.parents!.get(source);
    const previous = parent?.indexOf(lookupKey(path, pathBytes));
    const usable = previous !== undefined && !parent!.isGone(previous);
    if (usable && matchesSignature(stat, parent!.signature(previous))) {
      parent!.carried[previous] = 1;
      this.countCarried(path, stat);
    } else {
      this.handle({ path, pathBytes, stat }, parent, previous);
    }
  }

  /** In a focused run, carries what was not looked at (once every record has been matched). */
  private carryUnfocused(): void {
    const focus = this.focus;
    if (!focus || focus.applied) return;
    focus.applied = true;
    for (const [name, parent] of this.parents ?? []) {
      const paths = focus.paths.get(name);
      if (!paths) continue; // scanned in full
      // Without its root (unreadable, gone) nothing of the source can be vouched for: the run
      // fails and its changes are tried again, rather than carried blind or dropped.
      if (!focus.seen.has(name))
        throw new LocalPathError(`cannot read source folder ${this.roots.get(name)}; the changes there wait`);
      const prefix = `${name}/`;
      for (let i = 0; i < parent.size; i++) {
        const path = parent.path(i);
        if (parent.carried[i] || !path.startsWith(prefix)) continue;
        if (focus.seen.has(lookupKey(path, parent.pathBytesOf(i)))) continue;
        if (isFocused(path.slice(prefix.length), paths)) continue;
        parent.carried[i] = 1;
        const signature = parent.signature(i);
        if (signature === '')
          this.counts.symlinks++; // hard links are always in focus
        else this.countCarried(path, signature);
      }
    }
  }

  private countCarried(path: string, stat: string): void {
    if (stat[0] === 'd') {
      this.counts.dirs++;
      this.totals.dirs++;
      return;
    }
    const size = sizeOf(stat);
    this.counts.files.unchanged++;
    this.counts.bytesTotal += size;
    this.totals.files++;
    this.totals.bytes += size;
    this.hooks.onEvent({ type: 'file', path, status: 'unchanged', read: false, size, uploaded: 0 });
  }

  private handle(record: ScanRecord, parent: ParentManifest | undefined, previous: number | undefined): void {
    const item = this.itemFor(record);
    switch (item.kind) {
      case 'dir':
        this.addFresh({ ...baseEntry(item), type: 'dir' });
        this.counts.dirs++;
        this.totals.dirs++;
        return;
      case 'symlink':
        this.symlinks.push(
          symlinkEntry(item).then(
            (entry) => {
              this.addFresh(entry);
              this.counts.symlinks++;
            },
            (err: unknown) => this.hooks.skip(item.path, reason(err)),
          ),
        );
        return;
      case 'special':
        this.hooks.note(item.path, 'skipped: a socket, fifo or device is not backed up');
        return;
    }
    const old = previous === undefined ? undefined : parent!.entry(previous);
    const before = old?.type === 'file' ? old : undefined;
    // Its object is gone from the store: read and stored again, whatever its times say.
    const lost = previous !== undefined && parent!.isGone(previous);
    this.totals.files++;
    this.totals.bytes += item.stat.size;
    if (before && !lost && isUnchanged(before, item)) {
      // Same ctime means same metadata too; what differs is only how hard links are numbered.
      const entry =
        item.stat.nlink <= 1 && before.linkGroup === undefined && sameMetadata(before, item)
          ? before
          : { ...before, ...baseEntry(item), ...changeFields(item), type: 'file' as const };
      this.addFresh(withLinkGroup(entry, item, this.linkGroups));
      this.counts.files.unchanged++;
      this.counts.bytesTotal += entry.size;
      this.hooks.onEvent({
        type: 'file',
        path: item.path,
        status: 'unchanged',
        read: false,
        size: entry.size,
        uploaded: 0,
      });
      return;
    }
    this.totals.toRead++;
    this.totals.bytesToRead += item.stat.size;
    this.hooks.save(record, before);
  }

  private addFresh(entry: Entry): void {
    this.fresh.add({
      path: entry.path,
      pathBytes: entry.pathBytes,
      line: JSON.stringify(entry),
      signature: entrySignature(entry),
    });
  }

  /** The scan's record as an item, with its path on disk rebuilt from the source's root. */
  itemFor({ path, pathBytes, stat }: ScanRecord): ScanItem {
    const slash = path.indexOf('/');
    const name = slash < 0 ? path : path.slice(0, slash);
    const root = this.roots.get(name)!;
    let fsPath: string | Buffer = slash < 0 ? root : `${root}/${path.slice(slash + 1)}`;
    if (pathBytes) {
      const bytes = Buffer.from(pathBytes, 'base64');
      fsPath = joinBytes(Buffer.from(root), bytes.subarray(Buffer.byteLength(name) + 1));
    }
    const parsed = parseStatText(stat);
    return { kind: parsed.kind, fsPath, path, ...(pathBytes ? { pathBytes } : {}), stat: parsed };
  }
}
