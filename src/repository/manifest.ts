/**
 * A snapshot's manifest: the only truth about a snapshot (DESIGN §1). Stored gzipped as JSON
 * lines: the header first (so listings can read just that), then one entry per line, sorted by
 * path. Streamed both ways, so a million-entry snapshot never sits in memory as one string.
 * Documented in docs/FORMAT.md.
 */
export const MANIFEST_FORMAT = 'twinvault-manifest';
export const MANIFEST_VERSION = 1;

interface EntryBase {
  /** `<source name>/<relative path>`, "/"-separated; a lossy rendering when pathBytes is set. */
  path: string;
  /** The exact name bytes (base64) when they are not valid UTF-8. */
  pathBytes?: string;
  mode: number;
  /** Nanoseconds since the epoch, as a decimal string (exact beyond 2^53). */
  mtime: string;
  uid: number;
  gid: number;
}

export interface FileEntry extends EntryBase {
  type: 'file';
  size: number;
  sha256: string;
  /** The object holding the content, possibly in an older snapshot's folder. */
  key: string;
  /** Change detection: ctime (ns) and inode number as seen at backup time. */
  ctime: string;
  ino: number;
  /** Files with the same number are hard links to one another. */
  linkGroup?: number;
}

export interface DirEntry extends EntryBase {
  type: 'dir';
}

export interface SymlinkEntry extends EntryBase {
  type: 'symlink';
  target: string;
  targetBytes?: string;
}

export type Entry = FileEntry | DirEntry | SymlinkEntry;

export interface SnapshotSource {
  name: string;
  /** The folder backed up, as it was named on the host. */
  path: string;
  /**
   * Present when the folder was a mount point (on another device than its parent folder): a
   * later run that finds it is not any more fails rather than back up the empty folder beneath.
   */
  mountPoint?: true;
}

export interface SnapshotSummary {
  files: number;
  dirs: number;
  symlinks: number;
  /** Total size of the files in the snapshot. */
  bytes: number;
  newFiles: number;
  changedFiles: number;
  unchangedFiles: number;
  skipped: number;
  bytesUploaded: number;
}

export interface ManifestHeader {
  format: typeof MANIFEST_FORMAT;
  version: number;
  id: string;
  host: string;
  stamp: string;
  /** ISO 8601, UTC. */
  time: string;
  tags: string[];
  /** Id of the snapshot whose entries were reused for unchanged files. */
  parent?: string;
  sources: SnapshotSource[];
  summary: SnapshotSummary;
  /** Number of entry lines that follow; a shorter manifest is damaged. */
  entries: number;
}
