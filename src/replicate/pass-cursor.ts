import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { TwinvaultError } from '../errors.js';
import { REPLICATION_PREFIX } from '../repository/layout.js';

const CURSOR_KEY = `${REPLICATION_PREFIX}pass-cursor.json`;

/**
 * Where a pass stopped early (a Lambda near its time limit), kept in the destination so the next
 * invocation, on whatever machine, goes on from there instead of starting over.
 */
export async function readPassCursor(destination: Backend): Promise<string | undefined> {
  try {
    const text = (await readAll(await destination.get(CURSOR_KEY))).toString('utf8');
    const parsed = JSON.parse(text) as { resumeAfter?: unknown };
    return typeof parsed.resumeAfter === 'string' ? parsed.resumeAfter : undefined;
  } catch (err) {
    // No cursor, or a damaged one: a pass from the start is always correct.
    if (err instanceof TwinvaultError && !['NOT_FOUND', 'BUCKET_NOT_FOUND'].includes(err.code)) throw err;
    return undefined;
  }
}

/** Records where to go on; undefined once a pass completed (written, not deleted: a replicator
 *  whose replica keeps every object is not allowed to delete). */
export async function writePassCursor(destination: Backend, resumeAfter: string | undefined, now: Date) {
  const body = `${JSON.stringify({ resumeAfter: resumeAfter ?? null, at: now.toISOString() })}\n`;
  await destination.put(CURSOR_KEY, bodyFromBuffer(body), { contentType: 'application/json' });
}
