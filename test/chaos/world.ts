import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../src/backend/backend.js';
import { type BackupOptions, type BackupSummary, backup } from '../../src/backup/backup.js';
import { ManualClock } from '../../src/clock.js';
import { manifestKey } from '../../src/repository/layout.js';
import { forEachReference } from '../../src/repository/manifest-refs.js';
import { initRepository, type Repository } from '../../src/repository/repository.js';
import { refFor, type SnapshotRef } from '../../src/repository/snapshots.js';
import { describeTree, type TreeEntry } from '../tree.js';
import type { Random } from './random.js';

export const SOURCES = ['Documents', 'Photos'] as const;
export type SourceName = (typeof SOURCES)[number];
export const HOST = 'laptop';

/** What one snapshot held when it was written, so later checks know what it must restore to. */
export interface Recorded {
  ref: SnapshotRef;
  key: string;
  time: Date;
  sources: SourceName[];
  /** The tree a restore of the whole snapshot must reproduce (modes and contents, not times). */
  tree: Record<string, TreeEntry>;
  /** Every object key the manifest references. */
  objects: Set<string>;
  /** Written by the test itself (a forged or copied manifest), not by a backup. */
  forged?: boolean;
}

/**
 * The world a chaos run damages: two source folders on disk, a repository, a manual clock, and the
 * record of every snapshot written (what it held and which objects it needs). Damage is recorded
 * as keys, so "intact" is always computable: a snapshot whose manifest and objects are untouched.
 */
export class World {
  readonly recorded = new Map<string, Recorded>();
  readonly damagedKeys = new Set<string>();
  /** Locks left for killed processes of this machine (damage.ts), with when each would expire. */
  readonly deadLocks = new Map<string, Date>();
  private constructor(
    readonly dir: string,
    readonly backend: Backend,
    readonly repository: Repository,
    readonly random: Random,
    readonly clock: ManualClock,
  ) {}

  static async create(backend: Backend, random: Random): Promise<World> {
    const dir = await mkdtemp(join(tmpdir(), 'twinvault-chaos-'));
    for (const source of SOURCES) await mkdir(join(dir, 'src', source), { recursive: true });
    const clock = new ManualClock(new Date(Date.now() - 400 * 86_400_000));
    const repository = await initRepository(backend, { clock });
    const world = new World(dir, backend, repository, random, clock);
    for (const source of SOURCES) await world.mutate(source, 6);
    return world;
  }

  sourcePath(source: SourceName): string {
    return join(this.dir, 'src', source);
  }

  get stateFolder(): string {
    return join(this.dir, 'state');
  }

  /** Adds, changes and deletes a few files of a source (folders included). */
  async mutate(source: SourceName, changes: number): Promise<void> {
    const root = this.sourcePath(source);
    for (let i = 0; i < changes; i++) {
      const folder = join(root, `f${this.random.int(3)}`);
      const file = join(folder, `file-${this.random.int(8)}.bin`);
      await mkdir(folder, { recursive: true });
      if (this.random.chance(0.2)) await rm(file, { force: true });
      else await writeFile(file, this.random.bytes(this.random.int(3000)));
    }
  }

  /** Backs up some sources as the agent (one source) or a user (both) would, and records it. */
  async backup(sources: readonly SourceName[], extra: Partial<BackupOptions> = {}): Promise<BackupSummary> {
    this.clock.advance(this.random.int(36) * 3_600_000 + 1000);
    const summary = await backup({
      ...extra,
      repository: this.repository,
      sources: sources.map((name) => ({ path: this.sourcePath(name), name })),
      host: HOST,
      stateFolder: this.stateFolder,
      clock: this.clock,
      scanThreads: 0,
    });
    if (summary.written && (await this.allPresent(sources))) {
      const key = manifestKey(summary.host, summary.stamp);
      await this.record(key, summary.time, [...sources], await this.treeOf(sources));
    }
    return summary;
  }

  async record(key: string, time: string, sources: SourceName[], tree: Recorded['tree'], forged = false) {
    const [, , host, file] = key.split('/') as [string, string, string, string];
    const objects = new Set<string>();
    await forEachReference(this.backend, key, (object) => objects.add(object));
    const ref = refFor(host, file.replace(/\.json\.gz$/, ''));
    this.recorded.set(key, { ref, key, time: new Date(time), sources, tree, objects, forged });
  }

  private async allPresent(sources: readonly SourceName[]): Promise<boolean> {
    const present = await Promise.all(
      sources.map((name) =>
        stat(this.sourcePath(name)).then(
          () => true,
          () => false,
        ),
      ),
    );
    return present.every(Boolean);
  }

  /** The tree a restore of these sources gives, as describeTree names it. */
  async treeOf(sources: readonly SourceName[]): Promise<Recorded['tree']> {
    const tree: Recorded['tree'] = {};
    for (const source of sources) {
      const inner = await describeTree(this.sourcePath(source));
      tree[source] = { type: 'dir', mode: (await stat(this.sourcePath(source))).mode & 0o7777 };
      for (const [path, entry] of Object.entries(inner)) tree[`${source}/${path}`] = entry;
    }
    return tree;
  }

  /** A snapshot is intact while neither its manifest nor any object it needs was damaged. */
  isIntact(snapshot: Recorded): boolean {
    if (this.damagedKeys.has(snapshot.key)) return false;
    for (const key of snapshot.objects) if (this.damagedKeys.has(key)) return false;
    return true;
  }

  async keys(prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of this.backend.list(prefix)) keys.push(object.key);
    return keys;
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
