import { before, type CalendarDuration } from './keep-within.js';

/**
 * Which snapshots a retention policy keeps (restic's `forget` rules). A pure function: the caller
 * lists snapshots, this decides, and every decision carries the rules that made it.
 */
export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  within?: CalendarDuration;
  tags?: string[];
}

/** What the policy needs of a snapshot. */
export interface SnapshotFacts {
  id: string;
  time: Date;
  host: string;
  sources: string[];
  tags: string[];
}

export type GroupBy = Array<'host' | 'sources' | 'tags'>;

export interface Decision<T extends SnapshotFacts> {
  snapshot: T;
  keep: boolean;
  /**
   * Why it is kept: "last", "hourly", ..., "within", "tag daily", "latest", "no policy". Empty when
   * removed.
   */
  reasons: string[];
  /** Dated more than FUTURE_TOLERANCE_MS ahead of the clock applyPolicy was given (a warning). */
  future?: true;
}

export interface GroupDecision<T extends SnapshotFacts> {
  /** What the group's snapshots share, e.g. {host: "laptop", sources: "Documents"}. */
  group: Record<string, string>;
  /** Newest first. */
  decisions: Array<Decision<T>>;
}

const BUCKETS = {
  hourly: (t: Date) => t.toISOString().slice(0, 13),
  daily: (t: Date) => t.toISOString().slice(0, 10),
  weekly: isoWeek,
  monthly: (t: Date) => t.toISOString().slice(0, 7),
  yearly: (t: Date) => t.toISOString().slice(0, 4),
} as const;

export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  return (
    !policy.last &&
    !policy.hourly &&
    !policy.daily &&
    !policy.weekly &&
    !policy.monthly &&
    !policy.yearly &&
    !policy.within &&
    !(policy.tags && policy.tags.length > 0)
  );
}

/** A policy, or one per group (undefined: the group has none, and everything in it is kept). */
export type PolicyChoice = RetentionPolicy | ((group: Record<string, string>) => RetentionPolicy | undefined);

/**
 * How far ahead of this machine's clock a snapshot may be before it counts as from the future:
 * S3 refuses requests from a machine whose clock is more than 15 minutes off (RequestTimeTooSkewed),
 * and less than that is the ordinary drift between machines.
 */
export const FUTURE_TOLERANCE_MS = 15 * 60_000;

/**
 * Applies the policy to each group of snapshots (by host and source unless told otherwise).
 * In each group, newest first: `last` keeps the N newest; each calendar rule keeps the newest
 * snapshot of each of the N newest periods (hour, day, ISO week, month, year, in UTC) that have
 * one; `within` keeps those newer than the duration before the group's newest snapshot; `tags`
 * keeps those with any of the tags. The newest snapshot of a group is always kept ("latest").
 *
 * Grouped by source, a snapshot of several sources (a manual backup of two folders) is in the
 * group of each, beside the agent's one-source snapshots of the same folders, and stays while any
 * of its groups keeps it: so every source keeps its own newest snapshot whatever else holds it.
 *
 * Given `now`, a snapshot more than FUTURE_TOLERANCE_MS ahead of it is "from the future" (a host
 * whose clock is wrong, or a forged manifest), and marked so. Such snapshots are kept ("future":
 * they cannot be judged) and take part in no rule: the rules, "latest" included, apply to the
 * group's other snapshots, since one snapshot dated 2031 would otherwise be the "latest", fill the
 * `last` and calendar slots and set the start of `within`, and every real one would go. Only a
 * group whose snapshots are all from the future (a host whose clock is wrong writes them so) has
 * the rules applied to them as they are.
 */
export function applyPolicy<T extends SnapshotFacts>(
  snapshots: readonly T[],
  policy: PolicyChoice,
  groupBy: GroupBy = ['host', 'sources'],
  now?: Date,
): Array<GroupDecision<T>> {
  const groups = new Map<string, { group: Record<string, string>; members: T[] }>();
  for (const snapshot of snapshots) {
    for (const group of groupsOf(snapshot, groupBy)) {
      const key = JSON.stringify(group);
      const entry = groups.get(key) ?? { group, members: [] };
      entry.members.push(snapshot);
      groups.set(key, entry);
    }
  }
  const isFuture = (snapshot: T) =>
    now !== undefined && snapshot.time.getTime() > now.getTime() + FUTURE_TOLERANCE_MS;
  const decided = [...groups.values()].map(({ group, members }) => {
    const chosen = typeof policy === 'function' ? policy(group) : policy;
    const decisions: Array<Decision<T>> = chosen
      ? decideGroup(members, chosen, isFuture)
      : members.map((snapshot) => ({ snapshot, keep: true, reasons: ['no policy'] }));
    for (const decision of decisions) if (isFuture(decision.snapshot)) decision.future = true;
    return { group, decisions };
  });
  return keptByAnyGroup(decided);
}

/** The groups a snapshot is in: one per source it holds when grouped by source. */
function groupsOf(snapshot: SnapshotFacts, groupBy: GroupBy): Array<Record<string, string>> {
  const base: Record<string, string> = {};
  if (groupBy.includes('host')) base.host = snapshot.host;
  if (groupBy.includes('tags')) base.tags = [...snapshot.tags].sort().join(',');
  if (!groupBy.includes('sources')) return [base];
  // A snapshot of no source (hostile or damaged) still gets a group: it is never left undecided.
  const sources = snapshot.sources.length > 0 ? [...new Set(snapshot.sources)].sort() : [''];
  return sources.map((source) => ({ ...base, source }));
}

/** A snapshot that one of its groups keeps is kept in all of them, saying what keeps it. */
function keptByAnyGroup<T extends SnapshotFacts>(groups: Array<GroupDecision<T>>): Array<GroupDecision<T>> {
  const keptFor = new Map<T, string[]>();
  for (const { group, decisions } of groups) {
    for (const decision of decisions) {
      if (!decision.keep) continue;
      const why = `for source ${group.source || '(none)'} (${decision.reasons.join(', ')})`;
      keptFor.set(decision.snapshot, [...(keptFor.get(decision.snapshot) ?? []), why]);
    }
  }
  for (const { decisions } of groups) {
    for (const decision of decisions) {
      const kept = keptFor.get(decision.snapshot);
      if (decision.keep || !kept) continue;
      decision.keep = true;
      decision.reasons = [...kept];
    }
  }
  return groups;
}

/** "source Documents", "host laptop, source Documents": how a group is named in reasons and output. */
export function describeGroup(group: Record<string, string>): string {
  return (
    Object.entries(group)
      .map(([field, value]) => `${field} ${value || '(none)'}`)
      .join(', ') || 'all snapshots'
  );
}

/** The policy for one source's groups only; every other group keeps all (forget --source). */
export function onlySource(policy: PolicyChoice, source: string): PolicyChoice {
  return (group) =>
    group.source === source ? (typeof policy === 'function' ? policy(group) : policy) : undefined;
}

function newestFirst<T extends SnapshotFacts>(members: T[]): T[] {
  return [...members].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1));
}

function decideGroup<T extends SnapshotFacts>(
  members: T[],
  policy: RetentionPolicy,
  isFuture: (snapshot: T) => boolean,
): Array<Decision<T>> {
  const all = newestFirst(members);
  const real = all.filter((snapshot) => !isFuture(snapshot));
  const ordered = real.length > 0 ? real : all;
  const judged = new Map(decideInOrder(ordered, policy).map((decision) => [decision.snapshot, decision]));
  return all.map((snapshot) => judged.get(snapshot) ?? { snapshot, keep: true, reasons: ['future'] });
}

/** The rules over snapshots newest first: the first is the latest. */
function decideInOrder<T extends SnapshotFacts>(ordered: T[], policy: RetentionPolicy): Array<Decision<T>> {
  const counters: Record<string, number> = {
    hourly: policy.hourly ?? 0,
    daily: policy.daily ?? 0,
    weekly: policy.weekly ?? 0,
    monthly: policy.monthly ?? 0,
    yearly: policy.yearly ?? 0,
  };
  const lastBucket: Record<string, string | undefined> = {};
  const newest = ordered[0]?.time;
  const withinFrom = policy.within && newest ? before(newest, policy.within) : undefined;
  return ordered.map((snapshot, index) => {
    const reasons: string[] = [];
    if (index === 0) reasons.push('latest');
    if (policy.last && index < policy.last) reasons.push('last');
    for (const rule of Object.keys(BUCKETS) as Array<keyof typeof BUCKETS>) {
      if (counters[rule]! <= 0) continue;
      const bucket = BUCKETS[rule](snapshot.time);
      if (bucket === lastBucket[rule]) continue;
      lastBucket[rule] = bucket;
      counters[rule]!--;
      reasons.push(rule);
    }
    if (withinFrom && snapshot.time.getTime() > withinFrom.getTime()) reasons.push('within');
    for (const tag of policy.tags ?? []) if (snapshot.tags.includes(tag)) reasons.push(`tag ${tag}`);
    return { snapshot, keep: reasons.length > 0, reasons };
  });
}

/** ISO 8601 week, "2026-W48": weeks start on Monday; week 1 holds the year's first Thursday. */
function isoWeek(t: Date): string {
  const day = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
