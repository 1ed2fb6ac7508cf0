import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes a benchmark's results to bench/results/<name>-<date>[-<suffix>].json and prints them. */
export async function writeResults(name: string, results: { date: string }, suffix = ''): Promise<void> {
  const stamp = results.date.slice(0, 16).replace(':', '');
  const file = join('bench', 'results', `${name}-${stamp}${suffix ? `-${suffix}` : ''}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${JSON.stringify(results, null, 2)}\nwritten to ${file}`);
}
