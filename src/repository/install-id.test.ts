import { execFile } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTALL_ID_FILE, installId } from './install-id.js';

const TSX = pathToFileURL(
  fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url)),
).href;
const MODULE = pathToFileURL(fileURLToPath(new URL('./install-id.ts', import.meta.url))).href;

let dir: string;
let umask: number;
beforeEach(async () => {
  umask = process.umask();
  dir = await mkdtemp(join(tmpdir(), 'twinvault-install-id-'));
});
afterEach(async () => {
  process.umask(umask);
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (path: string) => (await lstat(path)).mode & 0o777;

describe('installId', () => {
  it('is made once, private (0600 in a 0700 folder, whatever the umask), and the same at every start', async () => {
    process.umask(0);
    const state = join(dir, 'state');
    const id = installId(state);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(installId(state)).toBe(id);
    if (process.platform !== 'win32') {
      expect(await modeOf(state)).toBe(0o700);
      expect(await modeOf(join(state, INSTALL_ID_FILE))).toBe(0o600);
    }
    // Only the random id is kept; what locks carry is derived from it.
    expect(JSON.parse(await readFile(join(state, INSTALL_ID_FILE), 'utf8'))).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it('a copy of the state folder (another machine set up from this one) is another installation', async () => {
    const here = installId(join(dir, 'here'));
    await mkdir(join(dir, 'copy'));
    await copyFile(join(dir, 'here', INSTALL_ID_FILE), join(dir, 'copy', INSTALL_ID_FILE));
    const copy = installId(join(dir, 'copy'));
    expect(copy).toMatch(/^[0-9a-f]{24}$/);
    expect(copy).not.toBe(here);
  });

  it('a wiped state folder makes a new id; a damaged file is replaced', async () => {
    const state = join(dir, 'state');
    const first = installId(state);
    await rm(state, { recursive: true });
    const second = installId(state);
    expect(second).toMatch(/^[0-9a-f]{24}$/);
    expect(second).not.toBe(first);
    for (const damage of ['{"id": "not hex"}', '{"id', 'null', '']) {
      await writeFile(join(state, INSTALL_ID_FILE), damage);
      const replaced = installId(state);
      expect(replaced).toMatch(/^[0-9a-f]{24}$/);
      expect(installId(state)).toBe(replaced);
    }
  });

  it('none where the state folder cannot be made (then every lock waits for its expiry)', async () => {
    await writeFile(join(dir, 'a-file'), 'x');
    expect(installId(join(dir, 'a-file', 'state'))).toBeUndefined();
    await mkdir(join(dir, 'state', INSTALL_ID_FILE), { recursive: true });
    expect(installId(join(dir, 'state'))).toBeUndefined();
  });

  it('processes starting together on a fresh machine all get the same id', async () => {
    const state = join(dir, 'state');
    // Each waits (spinning, for precision) for one moment well after they have all started.
    const at = Date.now() + 5000;
    const script = `const { installId } = await import(${JSON.stringify(MODULE)}); while (Date.now() < ${at}); process.stdout.write(String(installId(${JSON.stringify(state)})));`;
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', TSX, '--input-type=module', '-e', script]);
    const ids = (await Promise.all(Array.from({ length: 6 }, run))).map((out) => out.stdout);
    expect(ids[0]).toMatch(/^[0-9a-f]{24}$/);
    expect(new Set(ids)).toEqual(new Set([ids[0]]));
    expect(installId(state)).toBe(ids[0]);
  });
});
