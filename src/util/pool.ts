/** Runs `work` over items, `concurrency` at a time; after a failure no new item is started. */
export async function runPool<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(Math.max(1, Math.floor(concurrency) || 1), items.length) }, async () => {
      while (next < items.length && !failed) {
        try {
          await work(items[next++]!);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}
