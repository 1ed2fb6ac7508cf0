import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';

/**
 * The local manifest cache holds intact copies of manifests this machine wrote or read. When the
 * repository's copy is damaged later, what the user is told must be what a fresh machine is told
 * (and what a restore will meet): the cached copy counts only when proven to be the repository's.
 * (The same on MinIO: stale-cache-cli.int.test.ts.)
 */
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'twinvault-cli-stale-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * Three snapshots of one folder, made by the CLI (so its cache is warm), then the newest manifest
 * truncated in the repository: by default its last 20 bytes lost, or cut to `keep` bytes.
 */
async function newestTruncated(name: string, keep?: number) {
  const dir = join(work, name);
  const source = join(dir, 'Documents');
  await mkdir(source, { recursive: true });
  const repo = join(dir, 'repo');
  const cli = (args: string[], home = 'home') =>
    runCli(['--repo', `file://${repo}`, ...args], { cwd: dir, home: join(dir, home) });
  expect((await cli(['init'])).code).toBe(0);
  const stamps: string[] = [];
  for (const round of [1, 2, 3]) {
    await writeFile(join(source, 'a.txt'), `version ${round}`);
    const made = await cli(['--json', 'backup', source, '--host', 'laptop']);
    expect(made.code).toBe(0);
    stamps.push(JSON.parse(made.stdout).stamp);
  }
  // Read on this machine once more while intact: every manifest is in the cache, and proven.
  expect((await cli(['snapshots'])).code).toBe(0);
  const newest = join(repo, '.twinvault/snapshots/laptop', `${stamps[2]}.json.gz`);
  await truncate(newest, keep ?? (await readFile(newest)).length - 20);
  return { dir, cli, stamps };
}

describe('a warm manifest cache and a manifest damaged in the repository', () => {
  it('restore latest --include passes over the damaged newest snapshot, names it, and restores the one before', async () => {
    const { dir, cli, stamps } = await newestTruncated('restore');
    for (const home of ['home', 'fresh']) {
      const target = join(dir, `out-${home}`);
      const restored = await cli(
        ['restore', 'latest', '--include', 'Documents/a.txt', '--target', target],
        home,
      );
      expect(restored.code, `${home}: ${restored.stderr}`).toBe(0);
      expect(restored.stderr).toContain(`passed over snapshot laptop/${stamps[2]}, which cannot be read`);
      expect(restored.stderr).toContain(`${stamps[2]}.json.gz is damaged`);
      expect(restored.stderr).toContain(`latest snapshot holding "Documents/a.txt"`);
      expect(restored.stderr).toContain(`(laptop/${stamps[1]})`);
      expect(await readFile(join(target, 'Documents/a.txt'), 'utf8')).toBe('version 2');
    }
  });

  it("restore of the damaged snapshot itself uses this machine's intact copy, and says so", async () => {
    const { dir, cli, stamps } = await newestTruncated('cached-copy');
    const target = join(dir, 'out');
    const restored = await cli(['restore', `laptop/${stamps[2]}`, '--target', target]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await readFile(join(target, 'Documents/a.txt'), 'utf8')).toBe('version 3');
    expect(restored.stderr).toContain(
      `the repository's copy of .twinvault/snapshots/laptop/${stamps[2]}.json.gz cannot be read`,
    );
    expect(restored.stderr).toContain("restored from this machine's intact cached copy of it");
    // A fresh machine has no such copy: it restores what the damaged manifest still gives, or fails.
    const fresh = await cli(['restore', `laptop/${stamps[2]}`, '--target', join(dir, 'fresh-out')], 'fresh');
    expect([3, 5]).toContain(fresh.code);
    expect(fresh.stderr).toContain(`${stamps[2]}.json.gz is damaged`);
  });

  it('snapshots names the damaged one and exits 3, as on a fresh machine', async () => {
    // Cut inside its header: a listing reads headers only.
    const { cli, stamps } = await newestTruncated('listing', 30);
    for (const home of ['home', 'fresh']) {
      const listed = await cli(['--json', 'snapshots'], home);
      expect(listed.code, `${home}: ${listed.stderr}`).toBe(3);
      expect(JSON.parse(listed.stdout).map((s: { stamp: string }) => s.stamp)).toEqual(stamps.slice(0, 2));
      expect(listed.stderr).toContain(`(laptop/${stamps[2]}) is not listed`);
      expect(listed.stderr).toContain(`${stamps[2]}.json.gz is damaged`);
    }
  });

  it('snapshots says the same on a warm cache as on a fresh machine when only the tail is lost', async () => {
    const { cli } = await newestTruncated('listing-tail');
    const warm = await cli(['--json', 'snapshots']);
    const fresh = await cli(['--json', 'snapshots'], 'fresh');
    expect({ code: warm.code, stdout: warm.stdout, stderr: warm.stderr }).toEqual({
      code: fresh.code,
      stdout: fresh.stdout,
      stderr: fresh.stderr,
    });
  });

  it('ls and diff of the damaged snapshot fail as on a fresh machine, naming the manifest', async () => {
    const { cli, stamps } = await newestTruncated('ls');
    for (const home of ['home', 'fresh']) {
      for (const args of [
        ['ls', `laptop/${stamps[2]}`],
        ['diff', `laptop/${stamps[1]}`, `laptop/${stamps[2]}`],
      ]) {
        const result = await cli(args, home);
        expect(result.code, `${home} ${args.join(' ')}`).toBe(5);
        expect(result.stderr).toContain(`${stamps[2]}.json.gz is damaged`);
      }
    }
  });
});
