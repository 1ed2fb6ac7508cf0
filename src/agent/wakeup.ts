/** A wait that ends early when woken: the agent sleeps until its next deadline or an event. */
export class Wakeup {
  private pending: (() => void) | undefined;
  private woken = false;

  wait(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      const self = this;
      function done() {
        clearTimeout(timer);
        self.pending = undefined;
        resolve();
      }
      this.pending = done;
    });
  }

  /** Ends the current wait, or the next one at once if none is in progress. */
  wake(): void {
    if (this.pending) this.pending();
    else this.woken = true;
  }
}
