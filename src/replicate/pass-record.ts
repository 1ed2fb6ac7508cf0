import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readJsonFile, writeJsonFile } from '../util/json-file.js';
import type { PassSummary } from './events.js';

/** What this machine last saw of replication from one repository to one replica. */
export interface PassRecord {
  destination: string;
  lastPass?: Pick<PassSummary, 'startedAt' | 'finishedAt' | 'objects' | 'manifests' | 'deletes'> & {
    problems: number;
  };
  lastError?: { at: string; message: string };
}

/**
 * Records of passes, one small file per source repository and replica in the state folder, so a
 * CLI run, the agent and `replicate --listen` on one machine each add to what `replicas` shows.
 */
export class PassRecords {
  constructor(
    private readonly stateFolder: string,
    private readonly repositoryId: string,
  ) {}

  async read(destination: string): Promise<PassRecord | undefined> {
    const record = (await readJsonFile(this.fileOf(destination))) as PassRecord | undefined;
    return record?.destination === destination ? record : undefined;
  }

  async passed(summary: PassSummary): Promise<void> {
    if (summary.dryRun) return;
    const { startedAt, finishedAt, objects, manifests, deletes } = summary;
    const previous = await this.read(summary.destination);
    await writeJsonFile(this.fileOf(summary.destination), {
      ...previous,
      destination: summary.destination,
      lastPass: { startedAt, finishedAt, objects, manifests, deletes, problems: summary.problems.length },
    } satisfies PassRecord);
  }

  async failed(destination: string, at: Date, message: string): Promise<void> {
    const previous = await this.read(destination);
    await writeJsonFile(this.fileOf(destination), {
      ...previous,
      destination,
      lastError: { at: at.toISOString(), message },
    } satisfies PassRecord);
  }

  private fileOf(destination: string): string {
    const tag = createHash('sha256').update(destination).digest('hex').slice(0, 16);
    return join(this.stateFolder, 'replication', `${this.repositoryId}-${tag}.json`);
  }
}
