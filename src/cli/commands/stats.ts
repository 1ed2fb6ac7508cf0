import { stateFolder } from '../../config/paths.js';
import { ManifestCache } from '../../repository/manifest-cache.js';
import { repositoryStats } from '../../repository/stats.js';
import { withRepository } from '../context.js';
import { formatBytes, table } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';
import { warnUnreadable } from '../unreadable-snapshots.js';

/** Why a class bills more bytes than it holds (repository/class-billing.ts). */
const BILLING_NOTE: Record<string, string> = {
  STANDARD_IA: '128 KB at least per object',
  ONEZONE_IA: '128 KB at least per object',
  GLACIER_IR: '128 KB at least per object',
  GLACIER: '32 KB of index per object, and 8 KB at the STANDARD rate',
  DEEP_ARCHIVE: '32 KB of index per object, and 8 KB at the STANDARD rate',
};

/** `twinvault stats`: per host and in total, snapshots, files, bytes, dedup, storage classes, cost. */
export async function run(global: GlobalOptions): Promise<void> {
  await withRepository(global, async ({ backend, repository, config }) => {
    const stats = await repositoryStats(
      backend,
      ManifestCache.forRepository(stateFolder(), repository.config.id),
      config.prices,
    );
    const { total, unreadable } = stats;
    const json = {
      ...stats,
      unreadable: unreadable.map(({ ref, error }) => ({ id: ref.id, key: ref.key, message: error.message })),
    };
    printResult(global, json, () => [
      ...table(
        ['host', 'snapshots', 'files (newest)', 'logical', 'stored', 'objects'],
        stats.hosts.map((h) => [
          h.host,
          String(h.snapshots),
          String(h.files),
          formatBytes(h.logicalBytes),
          formatBytes(h.storedBytes),
          String(h.objects),
        ]),
      ),
      '',
      `total: ${total.snapshots} snapshot(s), ${formatBytes(total.logicalBytes)} logical, ${formatBytes(total.storedBytes)} stored in ${total.objects} object(s)`,
      `deduplication saved ${formatBytes(total.dedupSavedBytes)}`,
      ...Object.entries(total.byStorageClass).map(
        ([c, slot]) =>
          `  ${c}: ${slot.objects} object(s), ${formatBytes(slot.bytes)}${
            slot.billedBytes > slot.bytes
              ? ` (billed as ${formatBytes(slot.billedBytes)}: ${BILLING_NOTE[c] ?? ''})`
              : ''
          }`,
      ),
      `estimated storage cost: $${total.estimatedMonthlyCostUsd.toFixed(4)} per month (list prices; "prices" in the config overrides them; requests and transfer not included)`,
    ]);
    warnUnreadable(global, unreadable, 'not counted');
  });
}
