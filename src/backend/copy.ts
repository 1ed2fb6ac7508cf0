import type { Backend } from './backend.js';

/**
 * Copies an object between two backends that cannot copy server-side, streaming it through this
 * process without holding it whole in memory. The destination re-reads the source on a retry.
 */
export async function streamCopy(from: Backend, sourceKey: string, to: Backend, key: string): Promise<void> {
  const head = await from.head(sourceKey);
  await to.put(
    key,
    { size: head.size, open: () => from.get(sourceKey) },
    {
      metadata: head.metadata,
      ...(head.contentType === undefined ? {} : { contentType: head.contentType }),
    },
  );
}
