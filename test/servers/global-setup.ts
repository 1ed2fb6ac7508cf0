import type { TestProject } from 'vitest/node';
import { startMinio } from './minio.js';
import { startMoto } from './moto.js';
import type { RunningServer } from './process.js';

export interface S3ServerInfo {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    minio: S3ServerInfo | null;
    moto: S3ServerInfo | null;
    serverProblems: string[];
  }
}

const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/**
 * Starts MinIO and moto for the integration project and stops them afterwards. A server that
 * cannot be had skips its tests with one loud line, except under CI=true, where it fails the run.
 */
export default async function setup(project: TestProject) {
  const running: RunningServer[] = [];
  const problems: string[] = [];
  const start = async <T extends RunningServer>(
    name: string,
    starter: () => Promise<T>,
  ): Promise<T | null> => {
    try {
      const server = await starter();
      running.push(server);
      return server;
    } catch (err) {
      const why = (err as Error).message;
      if (process.env.CI === 'true') throw new Error(`CI=true and ${name} is unavailable: ${why}`);
      const reason = `${name} unavailable, its tests are SKIPPED: ${why}`;
      console.warn(`\n!!! ${reason}\n`);
      problems.push(reason);
      return null;
    }
  };
  const minio = await start('MinIO', startMinio);
  const moto = await start('moto', startMoto);
  project.provide(
    'minio',
    minio && {
      endpoint: minio.endpoint,
      accessKeyId: minio.accessKeyId,
      secretAccessKey: minio.secretAccessKey,
    },
  );
  project.provide('moto', moto && { endpoint: moto.endpoint, ...MOTO_CREDENTIALS });
  project.provide('serverProblems', problems);
  return async () => {
    await Promise.all(running.map((server) => server.stop()));
  };
}
