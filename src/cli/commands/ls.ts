import type { Entry } from '../../repository/manifest.js';
import { withRepository } from '../context.js';
import { escapeForTerminal as shown } from '../escape.js';
import { formatBytes } from '../format.js';
import type { GlobalOptions } from '../output.js';
import { findSnapshot, isWithin, repositoryManifests, selectionOf } from '../snapshot-arg.js';

const TYPE_LETTER = { file: '-', dir: 'd', symlink: 'l' } as const;

export async function run(
  global: GlobalOptions,
  flags: { host?: string; source?: string },
  args: string[],
): Promise<void> {
  const [spec, subpath] = args as [string, string | undefined];
  await withRepository(global, async (context) => {
    // What is listed is the repository's copy (a cached one only when proven to be it).
    const manifests = await repositoryManifests(context);
    const ref = await findSnapshot(
      global,
      context,
      spec,
      selectionOf(flags, subpath ? [subpath] : []),
      manifests,
    );
    const { entries } = await manifests.open(ref);
    // Streamed line by line: a snapshot of millions of files never sits in memory.
    const out = process.stdout;
    if (global.json) out.write('[');
    let first = true;
    for await (const entry of entries) {
      if (!isWithin(entry.path, subpath)) continue;
      if (global.json) {
        out.write(`${first ? '\n' : ',\n'}${JSON.stringify(entry)}`);
      } else if (!global.quiet) {
        out.write(`${describe(entry)}\n`);
      }
      first = false;
    }
    if (global.json) out.write(first ? ']\n' : '\n]\n');
  });
}

function describe(entry: Entry): string {
  const mode = `${TYPE_LETTER[entry.type]}${entry.mode.toString(8).padStart(4, '0')}`;
  const size = entry.type === 'file' ? formatBytes(entry.size) : '';
  const time = new Date(Number(BigInt(entry.mtime) / 1_000_000n))
    .toISOString()
    .replace('T', ' ')
    .slice(0, 19);
  const link = entry.type === 'symlink' ? ` -> ${shown(entry.target)}` : '';
  // Names come from the backed-up machine (or a forged manifest): never raw to the terminal.
  return `${mode}  ${size.padStart(10)}  ${time}  ${shown(entry.path)}${link}`;
}
