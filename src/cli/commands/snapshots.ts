import { stateFolder } from '../../config/paths.js';
import { ManifestCache } from '../../repository/manifest-cache.js';
import { ProvenManifests } from '../../repository/proven-manifests.js';
import { readReadableHeaders } from '../../repository/snapshot-headers.js';
import { withRepository } from '../context.js';
import { escapeForTerminal as shown } from '../escape.js';
import { formatBytes, table } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';
import { warnUnreadable } from '../unreadable-snapshots.js';

export async function run(
  global: GlobalOptions,
  flags: { host?: string; tag: string[]; source?: string },
): Promise<void> {
  await withRepository(global, async ({ backend, repository }) => {
    const cache = ManifestCache.forRepository(stateFolder(), repository.config.id);
    const manifests = await ProvenManifests.list(backend, cache);
    const refs = manifests.refs.filter((ref) => !flags.host || ref.host === flags.host);
    const readable = await readReadableHeaders(manifests, refs);
    const rows = readable.headers
      .map((header, index) => ({ header, ref: readable.refs[index]! }))
      .filter(({ header }) => flags.tag.every((tag) => header.tags.includes(tag)))
      .filter(({ header }) => !flags.source || header.sources.some((source) => source.name === flags.source))
      .map(({ header, ref }) => ({
        id: ref.id,
        host: header.host,
        stamp: header.stamp,
        time: header.time,
        paths: header.sources.map((source) => source.path),
        sources: header.sources.map((source) => source.name),
        tags: header.tags,
        files: header.summary.files,
        bytes: header.summary.bytes,
        parent: header.parent,
      }));
    printResult(global, rows, () =>
      rows.length === 0
        ? ['no snapshots']
        : table(
            ['id', 'time', 'host', 'sources', 'files', 'size', 'tags'],
            rows.map((row) => [
              row.id.slice(0, 8),
              row.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
              // Hosts, source names and tags come from manifests, which anyone with write access forges.
              shown(row.host),
              shown(row.sources.join(', ')),
              String(row.files),
              formatBytes(row.bytes),
              shown(row.tags.join(', ')),
            ]),
          ),
    );
    warnUnreadable(global, readable.damaged, 'not listed');
  });
}
