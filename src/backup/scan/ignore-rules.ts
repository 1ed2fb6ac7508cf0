import ignore, { type Ignore } from 'ignore';

export const IGNORE_FILE = '.twinvaultignore';
export const CACHEDIR_TAG = 'CACHEDIR.TAG';
/** The first bytes of a valid cache directory tag (https://bford.info/cachedir/). */
export const CACHEDIR_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';

interface FolderRules {
  /** The folder's path relative to the source root, "" for the root, else ending in "/". */
  base: string;
  rules: Ignore;
}

/** What the rules were built from: plain data, so a scan can hand folders to another thread. */
export interface IgnoreSpec {
  exclude: string[];
  include: string[];
  /** Each `.twinvaultignore` on the way: its folder (relative to the source root) and text. */
  folders: Array<{ folder: string; content: string }>;
}

/**
 * Exclusion for one source, with gitignore semantics throughout: --exclude and the config's
 * exclude patterns apply from the source root, each `.twinvaultignore` from its own folder, and a
 * later, deeper rule (including a "!" negation) overrides an earlier one. Include patterns, when
 * given, limit which files are kept; folders are always walked.
 */
export class IgnoreRules {
  /** No rule anywhere: the common case, answered without any matching. */
  private readonly empty: boolean;

  get isEmpty(): boolean {
    return this.empty;
  }

  private constructor(
    private readonly chain: FolderRules[],
    private readonly include: Ignore | undefined,
    hasPatterns: boolean,
    readonly spec: IgnoreSpec,
  ) {
    this.empty = !hasPatterns && include === undefined;
  }

  static forSource(exclude: string[], include: string[]): IgnoreRules {
    return new IgnoreRules(
      [{ base: '', rules: ignore({ allowRelativePaths: true }).add(exclude) }],
      include.length > 0 ? ignore({ allowRelativePaths: true }).add(include) : undefined,
      exclude.length > 0,
      { exclude, include, folders: [] },
    );
  }

  /** Rebuilds rules from their spec (in another thread). */
  static fromSpec(spec: IgnoreSpec): IgnoreRules {
    let rules = IgnoreRules.forSource(spec.exclude, spec.include);
    for (const { folder, content } of spec.folders) rules = rules.withFolderRules(folder, content);
    return rules;
  }

  /** The rules inside a folder that has its own .twinvaultignore. */
  withFolderRules(folder: string, content: string): IgnoreRules {
    const base = folder === '' ? '' : `${folder}/`;
    return new IgnoreRules(
      [...this.chain, { base, rules: ignore({ allowRelativePaths: true }).add(content) }],
      this.include,
      true,
      { ...this.spec, folders: [...this.spec.folders, { folder, content }] },
    );
  }

  /** Whether the entry at `path` (relative to the source root) is left out. */
  excludes(path: string, isDir: boolean): boolean {
    if (this.empty) return false;
    let excluded = false;
    for (const { base, rules } of this.chain) {
      if (!path.startsWith(base)) continue;
      const relative = path.slice(base.length) + (isDir ? '/' : '');
      const verdict = rules.test(relative);
      if (verdict.ignored) excluded = true;
      else if (verdict.unignored) excluded = false;
    }
    if (excluded || isDir || !this.include) return excluded;
    return !this.include.ignores(path);
  }
}
