/** What the agent writes to its state file, for `twinvault status` (and the dashboard later). */
export interface AgentState {
  pid: number;
  startedAt: string;
  updatedAt: string;
  configFile: string | undefined;
  repository: string | undefined;
  stopping: boolean;
  sources: SourceStatus[];
  /** The last integrity check of the repository. */
  verify?: VerifyStatus;
  /** When retention last ran to the end: the next run waits `every` from then, across restarts. */
  retention?: { lastRun: string };
}

export interface VerifyStatus {
  at: string;
  /** The slice of objects read and checked against SHA-256 ("3/12"), if any. */
  readData?: string | undefined;
  ok: boolean;
  snapshots?: number;
  objects?: number;
  problems: number;
  firstProblems?: string[];
  /** Verify could not run at all. */
  error?: string;
  /** The error's code (STORAGE_UNREACHABLE, ...), and whether trying again may help. */
  code?: string;
  retryable?: boolean;
}

export interface RunOutcome {
  at: string;
  outcome: 'ok' | 'partial' | 'failed';
  snapshot?: string;
  files?: { new: number; changed: number; unchanged: number; skipped: number };
  bytesUploaded?: number;
  error?: string;
  durationMs: number;
}

export interface SourceStatus {
  name: string;
  path: string;
  schedule: string;
  pendingChanges: number;
  running?: { since: string; full: boolean; changes: number };
  lastRun?: RunOutcome;
  lastSuccess?: RunOutcome;
  lastError?: { at: string; message: string };
  /** The next full scan. */
  nextScanAt?: string;
  /** When the next backup is due (changes, a full scan or a retry). */
  nextRunAt?: string;
  retryAt?: string;
}
