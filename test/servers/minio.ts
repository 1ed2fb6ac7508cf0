import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from './cache.js';
import { freePort, hasCommand, type RunningServer, runStep, startProcess, stopProcess } from './process.js';

/** Pinned: the newest MinIO the Go module proxy serves (MinIO no longer tags releases there). */
export const MINIO_MODULE = 'github.com/minio/minio';
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

export const MINIO_KMS_KEY_ID = 'twinvault-test-key';

export interface MinioServer extends RunningServer {
  accessKeyId: string;
  secretAccessKey: string;
  dataDir: string;
}

/** The MinIO binary, built with `go install` into the cache the first time (a few minutes). */
export function ensureMinioBinary(): string {
  const bin = cacheDir(`minio-${MINIO_VERSION}`);
  const binary = join(bin, 'minio');
  if (existsSync(binary)) return binary;
  if (!hasCommand('go', ['version']))
    throw new Error('Go (1.24 or newer) is not on PATH, so MinIO cannot be built');
  console.log(`building MinIO ${MINIO_VERSION} into ${bin} (first run on this machine only)...`);
  runStep('go', ['install', `${MINIO_MODULE}@${MINIO_VERSION}`], {
    ...process.env,
    GOBIN: bin,
    CGO_ENABLED: '0',
  });
  return binary;
}

/** `extraEnv`: more MinIO settings (the benchmark slows MinIO's background scanner with it). */
export async function startMinio(extraEnv: NodeJS.ProcessEnv = {}): Promise<MinioServer> {
  const binary = ensureMinioBinary();
  const port = await freePort();
  const consolePort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'twinvault-minio-'));
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = 'twinvault-test';
  const secretAccessKey = 'twinvault-test-secret';
  const env = {
    ...process.env,
    MINIO_ROOT_USER: accessKeyId,
    MINIO_ROOT_PASSWORD: secretAccessKey,
    MINIO_BROWSER: 'off',
    MINIO_UPDATE: 'off',
    // A static KMS key, so SSE-S3 and SSE-KMS (key id "twinvault-test-key") can be tested.
    MINIO_KMS_SECRET_KEY: `${MINIO_KMS_KEY_ID}:${Buffer.alloc(32, 7).toString('base64')}`,
    ...extraEnv,
  };
  const args = [
    'server',
    dataDir,
    '--address',
    `127.0.0.1:${port}`,
    '--console-address',
    `127.0.0.1:${consolePort}`,
    '--quiet',
  ];
  const child = await startProcess('MinIO', binary, args, env, async () => {
    const response = await fetch(`${endpoint}/minio/health/ready`);
    return response.ok;
  });
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    dataDir,
    stop: async () => {
      await stopProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
