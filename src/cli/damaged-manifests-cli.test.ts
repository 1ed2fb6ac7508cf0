import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { headerFor, hostileLongLine } from '../../test/manifests.js';
import { refFor } from '../repository/snapshots.js';

/**
 * What the command line does with damaged and hostile manifests in a local-folder repository:
 * the defects of issue 17, each as a user met it. (The same on MinIO: damaged-manifests-cli.int.test.ts.)
 */
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'twinvault-cli-damaged-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A repository with three snapshots of one folder, made by the CLI, and a CLI for it. */
async function threeSnapshots(name: string) {
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
  const manifest = (stamp: string) => join(repo, '.twinvault/snapshots/laptop', `${stamp}.json.gz`);
  const manifests = async () => (await readdir(join(repo, '.twinvault/snapshots/laptop'))).sort();
  return { dir, source, repo, cli, stamps, manifest, manifests };
}

describe('damaged and hostile manifests, from the command line', () => {
  it('forget --keep-last 1 --prune with the newest manifest truncated and a warm cache: refuses, keeps everything', async () => {
    const { cli, stamps, manifest, manifests, dir } = await threeSnapshots('forget');
    // The cache is warm: the backups wrote every manifest into it, and a listing read them.
    expect((await cli(['snapshots'])).code).toBe(0);
    const newest = manifest(stamps[2]!);
    await truncate(newest, (await readFile(newest)).length - 20);
    const before = await manifests();

    const forgot = await cli(['forget', '--keep-last', '1', '--prune']);
    expect(forgot.code).toBe(5);
    expect(forgot.stderr).toContain(`.twinvault/snapshots/laptop/${stamps[2]}.json.gz`);
    expect(forgot.stderr).toMatch(/forget changed nothing/);
    expect(forgot.stderr).toContain('twinvault repair --from REPLICA');
    expect(forgot.stderr).not.toContain('bug in twinvault');
    expect(await manifests()).toEqual(before);
    // The snapshot before it still restores.
    const restored = await cli(['restore', `laptop/${stamps[1]}`, '--target', join(dir, 'out')]);
    expect(restored.code).toBe(0);
    expect(await readFile(join(dir, 'out/Documents/a.txt'), 'utf8')).toBe('version 2');
  });

  it('snapshots on a fresh machine lists the snapshots that read and names the damaged one (exit 3)', async () => {
    const { cli, stamps, manifest } = await threeSnapshots('listing');
    await writeFile(manifest(stamps[1]!), 'not a manifest');
    const listed = await cli(['--json', 'snapshots'], 'fresh-home');
    expect(listed.code).toBe(3);
    expect(JSON.parse(listed.stdout).map((s: { stamp: string }) => s.stamp)).toEqual([stamps[0], stamps[2]]);
    expect(listed.stderr).toContain(`(laptop/${stamps[1]}) is not listed`);
    expect(listed.stderr).toContain(`.twinvault/snapshots/laptop/${stamps[1]}.json.gz is damaged`);
  });

  it('a small hostile manifest (one 600 MB line) is reported as damaged by snapshots, verify, forget and prune', async () => {
    const { cli, repo, source } = await threeSnapshots('hostile');
    const ref = refFor('laptop', '20200101_000000');
    // In the group forget thins (host laptop, source Documents).
    const hostile = hostileLongLine(headerFor(ref, 1, { sources: [{ name: 'Documents', path: source }] }));
    expect(hostile.length).toBeLessThan(700_000);
    await writeFile(join(repo, ref.key), hostile);
    const named = `.twinvault/snapshots/laptop/20200101_000000.json.gz is damaged: line 2 is longer than 1 MiB`;
    for (const args of [['verify'], ['forget', '--keep-last', '1'], ['prune']]) {
      const result = await cli(args, 'fresh-home');
      expect(result.code, args.join(' ')).toBe(5);
      expect(result.stdout + result.stderr).toContain(named);
      expect(result.stderr).not.toMatch(/RangeError|bug in twinvault/);
    }
    // Its header reads, so it is listed; its first line made hostile is named instead.
    expect((await cli(['snapshots'], 'fresh-home')).code).toBe(0);
    const member = gzipSync(Buffer.alloc(1 << 20, 'a'), { level: 9 });
    await writeFile(join(repo, ref.key), Buffer.concat(new Array(600).fill(member)));
    const listed = await cli(['snapshots'], 'other-home');
    expect(listed.code).toBe(3);
    expect(listed.stderr).toContain('line 1 is longer than 16 MiB');
    expect(listed.stdout.match(/laptop/g)).toHaveLength(3);
  });

  it('a path listed twice: ls, diff and verify name manifest and path; restore restores the rest (exit 3); a backup builds on the snapshot before', async () => {
    const { cli, stamps, manifest, source, dir } = await threeSnapshots('duplicates');
    const path = manifest(stamps[2]!);
    const lines = gunzipSync(await readFile(path))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    const header = JSON.parse(lines[0]!);
    const entries = lines.slice(1);
    const file = entries.findIndex((line) => line.includes('"Documents/a.txt"'));
    // A folder of the same path as the file, just before it.
    const folder = JSON.stringify({ ...JSON.parse(entries[0]!), path: 'Documents/a.txt' });
    entries.splice(file, 0, folder);
    header.entries = entries.length;
    await writeFile(path, gzipSync(`${[JSON.stringify(header), ...entries].join('\n')}\n`));
    const twice = /Documents\/a\.txt" is listed twice/;
    for (const args of [['ls', 'latest'], ['diff', `laptop/${stamps[1]}`, 'latest'], ['verify']]) {
      const result = await cli(args, 'fresh-home');
      expect(result.code, args.join(' ')).toBe(5);
      expect(result.stdout + result.stderr).toMatch(twice);
      expect(result.stdout + result.stderr).toContain(`laptop/${stamps[2]}.json.gz`);
    }
    const restored = await cli(['restore', 'latest', '--target', join(dir, 'out')], 'fresh-home');
    expect(restored.code).toBe(3);
    expect(restored.stderr).toMatch(twice);
    expect(restored.stderr).not.toContain('bug in twinvault');
    // A backup that would build on it (read as its parent on a machine without its local index)
    // passes it over, says so, and builds on the snapshot before: one damaged manifest must not
    // stop every later backup of the host.
    await writeFile(join(source, 'b.txt'), 'new');
    const backup = await cli(['--json', 'backup', source, '--host', 'laptop'], 'fresh-home');
    expect(backup.code, backup.stderr).toBe(0);
    const made = JSON.parse(backup.stdout);
    expect(made.notes).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/not used as a parent.*listed twice/) }),
    ]);
    expect(made.parent).toBe(
      JSON.parse((await cli(['--json', 'snapshots'])).stdout).find(
        (s: { stamp: string }) => s.stamp === stamps[1],
      ).id,
    );
    const latest = join(dir, 'after');
    expect((await cli(['restore', 'latest', '--target', latest])).code).toBe(0);
    expect(await readFile(join(latest, 'Documents', 'b.txt'), 'utf8')).toBe('new');
  });

  it('forget --keep-within 7d beside a snapshot dated 2031: the real snapshots stay, and a warning says why', async () => {
    const { cli, repo, stamps } = await threeSnapshots('future');
    const real = JSON.parse((await cli(['--json', 'snapshots'])).stdout);
    // A copy of the newest manifest, forged to be a snapshot of 2031.
    const ref = refFor('laptop', '20310101_000000');
    const lines = gunzipSync(await readFile(join(repo, `.twinvault/snapshots/laptop/${stamps[2]}.json.gz`)))
      .toString('utf8')
      .split('\n');
    const header = {
      ...JSON.parse(lines[0]!),
      id: ref.id,
      stamp: ref.stamp,
      time: '2031-01-01T00:00:00.000Z',
    };
    await writeFile(join(repo, ref.key), gzipSync([JSON.stringify(header), ...lines.slice(1)].join('\n')));
    const forgot = await cli(['--json', 'forget', '--keep-within', '7d']);
    expect(forgot.code).toBe(0);
    expect(JSON.parse(forgot.stdout).removed).toBe(0);
    const text = await cli(['forget', '--keep-within', '7d', '--dry-run']);
    expect(text.stderr).toMatch(
      /snapshot [0-9a-f]{8} \(laptop\/20310101_000000\) is dated 2031-01-01T00:00:00.000Z, ahead of this machine's clock/,
    );
    // The newest real snapshot is the latest; the one from 2031 is kept and left out of the rules.
    for (const stamp of stamps) {
      expect(text.stdout).toMatch(new RegExp(`keep\\s+[0-9a-f]{8}\\s+laptop/${stamp}\\s+(latest, )?within`));
    }
    expect(text.stdout).toMatch(/keep\s+[0-9a-f]{8}\s+laptop\/20310101_000000\s+future \(from the future\)/);
    expect(JSON.parse((await cli(['--json', 'snapshots'])).stdout)).toHaveLength(real.length + 1);
  });
});
