import { isTwinvaultError } from '../errors.js';
import type { FileEntry } from '../repository/manifest.js';
import { WorkQueue } from '../util/work-queue.js';
import type { BackupRun } from './backup-run.js';
import type { RunContentStore } from './content-store.js';
import { baseEntry, changeFields, contentKey, isRacy, type ScanItem } from './entry-fields.js';
import { ChangedWhileReadingError, SMALL_FILE_LIMIT, saveFile } from './file-saver.js';
import { sizeOf } from './scan/records.js';
import { reason } from './scan/walker.js';
import { type ScanRecord, SnapshotBuilder } from './snapshot-builder.js';

/**
 * Saves queued at most; past this the backup stops matching scan records until uploads catch up
 * (a waiting save costs some hundred bytes, a waiting record a few dozen).
 */
const SAVES_WAITING = 1024;

/** Small files are read whole into memory before upload: at most this much of them at once. */
const IN_FLIGHT_BYTES = 128 * 1024 * 1024;

/**
 * The run's snapshot builder and the saves it asks for: new and changed files read, hashed and
 * stored while the scan goes on, up to `concurrency` at once and IN_FLIGHT_BYTES of small files
 * in memory. Records are matched (and so saves asked for) only once the parents are loaded, by
 * which time the run's stamp and content store exist (startSaving).
 */
export class SaveQueue {
  readonly builder: SnapshotBuilder;
  private readonly queue: WorkQueue;
  private target: { stamp: string; content: RunContentStore } | undefined;

  constructor(private readonly run: BackupRun) {
    this.queue = new WorkQueue(run.options.concurrency ?? 32, IN_FLIGHT_BYTES);
    this.builder = new SnapshotBuilder(run.sources, run.summary, {
      onEvent: run.onEvent,
      skip: run.skip,
      note: run.note,
      save: (record, previous) => this.push(record, previous),
      full: () => this.queue.waitingCount >= SAVES_WAITING,
    });
    this.queue.onTaskEnd = () => {
      if (this.queue.waitingCount >= SAVES_WAITING / 2) return;
      try {
        this.builder.resume();
      } catch (err) {
        // Matching a record failed (a damaged parent, say): the run fails with that error.
        this.builder.close();
        this.queue.fail(err);
      }
    };
  }

  /** Where saved files go: under the run's stamp, through its content store. */
  startSaving(stamp: string, content: RunContentStore): void {
    this.target = { stamp, content };
  }

  /**
   * Resolves once every save asked for has ended, each file's object durable in the store (saveFile
   * returns only then), and every record is matched; rejects with the first failure.
   */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  /**
   * The run failed: no more records are matched and no new saves start; those already started
   * settle. Returns the first save failure, which is the run's reason rather than "the scan was
   * stopped" that it caused.
   */
  abandon(): Promise<unknown> {
    this.builder.close();
    return this.queue.drain().then(
      () => undefined,
      (failure: unknown) => failure,
    );
  }

  private push(record: ScanRecord, previous: FileEntry | undefined): void {
    this.queue.push(
      () => this.saveOne(this.builder.itemFor(record), previous),
      Math.min(sizeOf(record.stat), SMALL_FILE_LIMIT),
    );
  }

  private async saveOne(item: ScanItem, previous: FileEntry | undefined): Promise<void> {
    const { stamp, content } = this.target!;
    const { run } = this;
    const { summary } = run;
    try {
      const saved = await saveFile(
        run.backend,
        content,
        item.fsPath,
        contentKey(run.options.host, stamp, item),
        item.stat,
        item.path,
      );
      const settled = { ...item, stat: saved.stat };
      const entry: FileEntry = {
        ...baseEntry(settled),
        ...changeFields(settled),
        ...(isRacy(saved.stat, run.clock.now()) ? { ctime: '0' } : {}),
        type: 'file',
        size: saved.stat.size,
        sha256: saved.sha256,
        key: saved.key,
      };
      this.builder.addSaved(entry, item);
      // Read again but with the same content (touched, or racy last time) is still unchanged.
      const status = !previous ? 'new' : previous.sha256 === saved.sha256 ? 'unchanged' : 'changed';
      summary.files[status]++;
      summary.bytesTotal += entry.size;
      summary.bytesRead += saved.bytesRead;
      summary.bytesUploaded += saved.bytesUploaded;
      if (saved.resumed) {
        summary.resumed.files++;
        summary.resumed.bytes += entry.size;
      }
      run.onEvent({
        type: 'file',
        path: item.path,
        status,
        read: true,
        size: entry.size,
        uploaded: saved.bytesUploaded,
      });
    } catch (err) {
      if (err instanceof ChangedWhileReadingError)
        run.skip(item.path, err.message || 'it kept changing while being read');
      else if (isFileReadError(err)) run.skip(item.path, reason(err));
      else {
        run.scan?.stop(); // storage failures (and anything unexpected) end the run: no manifest is written
        throw err;
      }
    }
  }
}

/** Errors that concern one file (it cannot be read), as opposed to the run (storage, resources). */
const RUN_WIDE_ERRNO = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'ENOSPC']);
function isFileReadError(err: unknown): boolean {
  if (isTwinvaultError(err)) return false;
  const { code, syscall } = (err ?? {}) as NodeJS.ErrnoException;
  return typeof syscall === 'string' && typeof code === 'string' && !RUN_WIDE_ERRNO.has(code);
}
