import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../test/cli.js';
import { describeTree } from '../../test/tree.js';

const ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

let home: string;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'twinvault-cli-backup-'));
  home = join(work, 'home');
  await mkdir(home);
  await chmod(work, 0o755);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const cli = (args: string[], extra: { uid?: number } = {}) => runCli(args, { cwd: work, home, ...extra });

describe('backup, snapshots, ls and restore from the command line (local folder)', () => {
  it('backs up, lists and restores, with the JSON fields scripts rely on', async () => {
    const source = join(work, 'photos');
    await mkdir(join(source, '2024'), { recursive: true });
    await writeFile(join(source, '2024', 'beach.jpg'), 'jpeg');
    const repo = `file://${join(work, 'repo1')}`;
    expect((await cli(['--repo', repo, 'init'])).code).toBe(0);
    const first = await cli([
      '--repo',
      repo,
      '--json',
      'backup',
      source,
      '--host',
      'laptop',
      '--tag',
      'daily',
    ]);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({
      host: 'laptop',
      files: { new: 1, changed: 0, unchanged: 0, skipped: 0 },
      bytesRead: 4,
      bytesUploaded: 4,
    });
    expect(summary.id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Date(summary.time).toISOString()).toBe(summary.time);
    expect(typeof summary.durationMs).toBe('number');

    const list = JSON.parse((await cli(['--repo', repo, '--json', 'snapshots'])).stdout);
    expect(list).toEqual([
      expect.objectContaining({
        id: summary.id,
        host: 'laptop',
        time: summary.time,
        paths: [source],
        tags: ['daily'],
        files: 1,
        bytes: 4,
      }),
    ]);
    const table = await cli(['--repo', repo, 'snapshots']);
    expect(table.stdout).toContain(summary.id.slice(0, 8));

    const ls = await cli(['--repo', repo, 'ls', summary.id.slice(0, 6), 'photos/2024']);
    expect(ls.stdout).toContain('photos/2024/beach.jpg');

    const target = join(work, 'restored1');
    const restored = await cli(['--repo', repo, 'restore', 'latest', '--target', target]);
    expect(restored.code).toBe(0);
    expect(await describeTree(join(target, 'photos'))).toEqual(await describeTree(source));
  });

  it('reports unreadable files and folders, goes on, and exits 3', async () => {
    const source = join(work, 'mixed');
    await mkdir(join(source, 'locked-folder'), { recursive: true });
    await writeFile(join(source, 'fine.txt'), 'fine');
    await writeFile(join(source, 'secret.txt'), 'secret');
    await writeFile(join(source, 'locked-folder', 'inner.txt'), 'inner');
    const repoDir = join(work, 'repo2');
    await mkdir(repoDir);
    if (ROOT) {
      // Root reads everything: run the CLI as nobody, owning all but the two unreadable entries.
      for (const path of [home, repoDir, source, join(source, 'fine.txt')]) await chown(path, NOBODY, NOBODY);
    }
    await chmod(join(source, 'secret.txt'), 0o000);
    await chmod(join(source, 'locked-folder'), 0o000);
    const as = ROOT ? { uid: NOBODY } : {};
    const repo = `file://${repoDir}`;
    expect((await cli(['--repo', repo, 'init'], as)).code).toBe(0);
    const result = await cli(['--repo', repo, 'backup', source], as);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('skipped mixed/secret.txt: permission denied');
    expect(result.stderr).toContain('skipped mixed/locked-folder: cannot list folder: permission denied');
    expect(result.stdout).toContain('1 new');
    expect(result.stdout).toContain('2 skipped');
    await chmod(join(source, 'locked-folder'), 0o755);
  });

  it('survives SIGKILL mid-upload: no new snapshot, the old one restores, the next backup completes', async () => {
    const source = join(work, 'big');
    await mkdir(source);
    await writeFile(join(source, 'first.txt'), 'the first version');
    const repoDir = join(work, 'repo3');
    const repo = `file://${repoDir}`;
    await cli(['--repo', repo, 'init']);
    expect((await cli(['--repo', repo, 'backup', source, '--host', 'crashy'])).code).toBe(0);
    const before = await describeTree(source);

    const chunk = Buffer.alloc(256 * 1024, 1);
    for (let i = 0; i < 300; i++) {
      chunk.writeUInt32BE(i, 0);
      await writeFile(join(source, `file-${String(i).padStart(3, '0')}.bin`), chunk);
    }
    const child = startCli(['--repo', repo, 'backup', source, '--host', 'crashy'], { cwd: work, home });
    const killed = new Promise((resolve) => child.on('exit', resolve));
    // Kill once some of the new content is stored, but before the backup can finish.
    let uploaded = 0;
    for (let i = 0; i < 400 && uploaded < 5; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const names = await readdir(join(repoDir, 'crashy'), { recursive: true }).catch(() => []);
      uploaded = names.filter((n) => String(n).endsWith('.bin')).length;
    }
    child.kill('SIGKILL');
    await killed;
    expect(uploaded).toBeGreaterThanOrEqual(5);

    const snapshots = JSON.parse((await cli(['--repo', repo, '--json', 'snapshots'])).stdout);
    expect(snapshots).toHaveLength(1);
    const target = join(work, 'restored3');
    expect((await cli(['--repo', repo, 'restore', snapshots[0].id, '--target', target])).code).toBe(0);
    expect(await describeTree(join(target, 'big'))).toEqual(before);

    const next = await cli(['--repo', repo, '--json', 'backup', source, '--host', 'crashy']);
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout).files.new).toBe(300);
    const target2 = join(work, 'restored3b');
    expect((await cli(['--repo', repo, 'restore', 'latest', '--target', target2])).code).toBe(0);
    expect(await describeTree(join(target2, 'big'))).toEqual(await describeTree(source));
  });

  it('a folder given on the command line that is a configured source is backed up as that source', async () => {
    const source = join(work, 'Dokumente');
    await mkdir(join(source, 'tax'), { recursive: true });
    await writeFile(join(source, 'tax', '2025.pdf'), 'pdf');
    await writeFile(join(source, 'tax', 'draft.tmp'), 'scratch');
    const config = join(work, 'named-source.json');
    await writeFile(
      config,
      JSON.stringify({
        repository: { url: `file://${join(work, 'repo-named')}` },
        sources: [{ path: source, name: 'documents', exclude: ['*.tmp'] }],
      }),
    );
    expect((await cli(['--config', config, 'init'])).code).toBe(0);
    // Given with a trailing slash, as shells complete it: still the configured source.
    const made = await cli(['--config', config, '--json', 'backup', `${source}/`, '--host', 'laptop']);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).sources).toEqual([{ name: 'documents', path: source }]);
    const listed = await cli(['--config', config, '--json', 'ls', 'latest']);
    expect(JSON.parse(listed.stdout).map((entry: { path: string }) => entry.path)).toEqual([
      'documents',
      'documents/tax',
      'documents/tax/2025.pdf',
    ]);
  });

  it('refuses to init over an existing repository or a non-empty location', async () => {
    const repoDir = join(work, 'repo4');
    const repo = `file://${repoDir}`;
    expect((await cli(['--repo', repo, 'init'])).code).toBe(0);
    const again = await cli(['--repo', repo, 'init']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds a twinvault repository');
    const other = join(work, 'not-empty');
    await mkdir(other);
    await writeFile(join(other, 'stuff.txt'), 'x');
    const refused = await cli(['--repo', `file://${other}`, 'init']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not empty');
    expect((await cli(['--repo', `file://${other}`, 'init', '--allow-nonempty'])).code).toBe(0);
  });
});
