import type { StoreRetry } from '../backend/wrap/retry.js';

/** What a backup reports while it runs; the CLI draws bars from these, the agent logs them. */
export type BackupEvent =
  | { type: 'scanned'; files: number; dirs: number; bytes: number; toRead: number; bytesToRead: number }
  | {
      type: 'file';
      path: string;
      status: 'new' | 'changed' | 'unchanged';
      /** Whether the file was read (new, changed, or re-checked) rather than known from its parent. */
      read: boolean;
      size: number;
      uploaded: number;
    }
  | { type: 'skip'; path: string; reason: string }
  | { type: 'note'; path: string; message: string }
  | { type: 'waiting'; reason: string }
  /** The store failed and the call is tried again (for a bounded time: `remainingMs`). */
  | ({ type: 'retrying' } & StoreRetry);

export type BackupEventHandler = (event: BackupEvent) => void;
