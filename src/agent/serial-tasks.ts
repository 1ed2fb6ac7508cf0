/**
 * Runs background tasks one after another. The agent's retention and verify go through one:
 * a verify that lists manifests while retention forgets them would report the forgotten ones as
 * damaged (and raise an alert for nothing), and one that reads objects while prune deletes them
 * would report them missing.
 */
export class SerialTasks {
  private tail: Promise<void> = Promise.resolve();

  run(task: () => Promise<void>): Promise<void> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => {});
    return result;
  }
}
