import type { Clock } from '../clock.js';

export interface BehindReplica {
  url: string;
  /** Since when it has lacked something the repository has: the replication lag. */
  since: Date;
  /** Why, when a copy or a pass failed. */
  error?: string;
}

/**
 * Which replicas are behind, and since when: what the lag metric shows and the replication-lag
 * alert watches. A replica stays behind from its first miss until a pass finds it complete;
 * one not seen either way since the process started is neither (its state is unknown).
 */
export class ReplicaLag {
  private readonly since = new Map<string, { since: Date; error?: string }>();
  private readonly current = new Set<string>();

  constructor(private readonly clock: Clock) {}

  behind(url: string, error?: string): void {
    const lag = this.since.get(url) ?? { since: this.clock.now() };
    this.since.set(url, error === undefined ? lag : { ...lag, error });
    this.current.delete(url);
  }

  caughtUp(url: string): void {
    this.since.delete(url);
    this.current.add(url);
  }

  /** Whether a pass has found the replica complete (and nothing has gone missing since). */
  isCurrent(url: string): boolean {
    return this.current.has(url);
  }

  /** Forgets replicas no longer configured. */
  keepOnly(urls: ReadonlySet<string>): void {
    for (const url of this.since.keys()) if (!urls.has(url)) this.since.delete(url);
    for (const url of this.current) if (!urls.has(url)) this.current.delete(url);
  }

  list(): BehindReplica[] {
    return [...this.since].map(([url, lag]) => ({ url, ...lag }));
  }
}
