import type { Backend } from '../backend/backend.js';
import { bodyFromBuffer, readAll } from '../backend/body.js';
import { TwinvaultError } from '../errors.js';
import { REPLICATION_PREFIX } from '../repository/layout.js';

const PENDING_KEY = `${REPLICATION_PREFIX}pending-deletes.json`;

/**
 * When each object the source no longer holds was first found missing, for the "delay" delete
 * policy. Kept in the destination itself, so any machine (or a Lambda) running the next pass
 * knows how long an object has been gone. Written only when it changes.
 */
export class PendingDeletes {
  private constructor(
    private readonly backend: Backend,
    private readonly since: Map<string, number>,
    private readonly original: string,
  ) {}

  static async load(backend: Backend): Promise<PendingDeletes> {
    let text = '{}';
    try {
      text = (await readAll(await backend.get(PENDING_KEY))).toString('utf8');
    } catch (err) {
      if (!(err instanceof TwinvaultError && err.code === 'NOT_FOUND')) throw err;
    }
    const since = new Map<string, number>();
    try {
      const parsed = JSON.parse(text) as { since?: Record<string, string> };
      for (const [key, when] of Object.entries(parsed.since ?? {})) {
        const time = Date.parse(when);
        if (Number.isFinite(time)) since.set(key, time);
      }
    } catch {
      // A damaged record only restarts the delay clocks: deletes come later, never earlier.
    }
    return new PendingDeletes(backend, since, serialize(since));
  }

  /** When `key` was first seen missing from the source; now, for a key seen missing first now. */
  firstMissing(key: string, now: number): number {
    return this.since.get(key) ?? now;
  }

  /** Keeps the clocks of exactly these keys (the ones still waiting), and writes them if changed. */
  async keepOnly(waiting: ReadonlyMap<string, number>): Promise<void> {
    const text = serialize(waiting);
    if (text === this.original) return;
    await this.backend.put(PENDING_KEY, bodyFromBuffer(text), { contentType: 'application/json' });
  }
}

function serialize(since: ReadonlyMap<string, number>): string {
  const entries = [...since].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${JSON.stringify({ since: Object.fromEntries(entries.map(([k, t]) => [k, new Date(t).toISOString()])) })}\n`;
}
