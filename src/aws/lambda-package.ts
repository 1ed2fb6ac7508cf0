import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { NotFoundError } from '../errors.js';

/** Where the bundle is: beside the CLI bundle once built (dist/), or in dist/ from the sources. */
const CANDIDATES = ['./lambda/replicate.mjs', '../../dist/lambda/replicate.mjs'];

/** The Lambda's code as the zip Lambda takes, named by its content so each build deploys anew. */
export async function lambdaPackage(): Promise<{ zip: Uint8Array; name: string }> {
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    let code: Buffer;
    try {
      code = await readFile(path);
    } catch {
      continue;
    }
    const zip = zipSync({ 'replicate.mjs': code }, { level: 9, mtime: new Date('2026-01-01T00:00:00Z') });
    const digest = createHash('sha256').update(zip).digest('hex').slice(0, 16);
    return { zip, name: `replicate-${digest}.zip` };
  }
  throw new NotFoundError('the replicator Lambda bundle (dist/lambda/replicate.mjs) is missing', {
    hint: 'build it with "npm run build"',
  });
}
