/**
 * Iterates `source` while fetching up to `limit` items ahead of the consumer, so the next page of
 * a paginated listing is on its way while this one is being compared. Errors reach the consumer
 * in order; stopping early stops the source.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const buffered: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let stopped = false;
  let itemArrived: (() => void) | undefined;
  let spaceFreed: (() => void) | undefined;

  const pump = (async () => {
    try {
      while (!stopped) {
        if (buffered.length >= limit) {
          await new Promise<void>((resolve) => {
            spaceFreed = resolve;
          });
          continue;
        }
        const next = await iterator.next();
        if (next.done) break;
        buffered.push(next.value);
        itemArrived?.();
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      itemArrived?.();
    }
  })();

  try {
    for (;;) {
      if (buffered.length === 0) {
        if (finished) break;
        await new Promise<void>((resolve) => {
          itemArrived = resolve;
        });
        itemArrived = undefined;
        continue;
      }
      const item = buffered.shift() as T;
      spaceFreed?.();
      spaceFreed = undefined;
      yield item;
    }
    if (failure) throw failure.error;
  } finally {
    stopped = true;
    spaceFreed?.();
    await pump;
    if (!failure) await iterator.return?.();
  }
}
