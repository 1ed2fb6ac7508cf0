import type { Backend } from './backend.js';

/**
 * Copies an object between two backends that cannot copy server-side, streaming it through this
 * process without holding it whole in memory. The destination re-reads the source on a retry.
 * An object that carries its SHA-256 (twinvault's content objects) is sent with it, so a store
 * that checks checksums refuses bytes damaged in the source or on the way.
 */
export async function streamCopy(
  from: Backend,
  sourceKey: string,
  to: Backend,
  key: string,
  options: { content?: boolean } = {},
): Promise<void> {
  const head = await from.head(sourceKey);
  const sha256 = head.metadata.sha256;
  await to.put(
    key,
    { size: head.size, open: () => from.get(sourceKey) },
    {
      metadata: head.metadata,
      ...(options.content ? { content: true } : {}),
      ...(head.contentType === undefined ? {} : { contentType: head.contentType }),
      ...(sha256 !== undefined && /^[0-9a-f]{64}$/.test(sha256) ? { sha256 } : {}),
    },
  );
}
