import type { Clock } from '../../clock.js';

interface Window {
  start: number;
  lines: number;
  suppressed: number;
}

/**
 * At most `perWindow` log lines per caller (a remote address) per window, so a caller sending
 * garbage or guessing tokens in a loop cannot fill the disk or drown the lines that matter.
 * What was held back is told in one line, when the caller is next heard from after its window
 * or when the listener stops: "n more lines suppressed".
 */
export class CallerLogLimit {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly perWindow = 10,
    private readonly windowMs = 60_000,
  ) {}

  /**
   * Whether a line about this caller may be written now; `suppressed` is how many were held
   * back in its previous window (to be said first), if any.
   */
  take(caller: string): { write: boolean; suppressed: number } {
    const now = this.clock.now().getTime();
    const window = this.windows.get(caller);
    if (window === undefined || now - window.start >= this.windowMs) {
      if (this.windows.size >= 10_000) this.forgetOld(now);
      this.windows.set(caller, { start: now, lines: 1, suppressed: 0 });
      return { write: true, suppressed: window?.suppressed ?? 0 };
    }
    if (window.lines < this.perWindow) {
      window.lines++;
      return { write: true, suppressed: 0 };
    }
    window.suppressed++;
    return { write: false, suppressed: 0 };
  }

  /** Callers with lines held back and not yet told, emptied (for the last words at stop). */
  drain(): Array<{ caller: string; suppressed: number }> {
    const held = [...this.windows]
      .filter(([, window]) => window.suppressed > 0)
      .map(([caller, window]) => ({ caller, suppressed: window.suppressed }));
    this.windows.clear();
    return held;
  }

  /** Bounds memory when very many addresses call: windows that ended are dropped. */
  private forgetOld(now: number): void {
    for (const [caller, window] of this.windows)
      if (now - window.start >= this.windowMs && window.suppressed === 0) this.windows.delete(caller);
  }
}
