import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';
import { freePort, hasCommand, type RunningServer, runStep, startProcess, stopProcess } from './process.js';

/** Pinned moto release; its server mode stands in for the AWS-only APIs MinIO lacks. */
export const MOTO_VERSION = '5.2.5';

/** A virtualenv in the cache holding moto's server, created the first time. */
export function ensureMotoServer(): string {
  const venv = cacheDir(`moto-${MOTO_VERSION}`);
  const server = join(venv, 'bin', 'moto_server');
  if (existsSync(server)) return server;
  const python = ['python3', 'python'].find((command) => hasCommand(command));
  if (!python) throw new Error('Python 3 is not installed, so moto cannot be installed');
  console.log(`installing moto[server]==${MOTO_VERSION} into ${venv} (first run on this machine only)...`);
  runStep(python, ['-m', 'venv', venv]);
  runStep(join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `moto[server]==${MOTO_VERSION}`,
  ]);
  return server;
}

export async function startMoto(): Promise<RunningServer> {
  const server = ensureMotoServer();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = await startProcess(
    'moto',
    server,
    ['-H', '127.0.0.1', '-p', String(port)],
    process.env,
    async () => {
      const response = await fetch(`${endpoint}/moto-api/`);
      return response.status < 500;
    },
  );
  return { endpoint, stop: () => stopProcess(child) };
}
