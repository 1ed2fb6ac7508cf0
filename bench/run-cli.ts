import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = new URL('../dist/twinvault.js', import.meta.url).pathname;

/**
 * Runs the built CLI, returning wall seconds, peak RSS (KiB, from GNU time) and output. Exit code
 * 3 (done, with files skipped or objects held back) counts as a run; any other failure throws.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  /** Another build of the CLI (a benchmark comparing two). */
  cli = CLI,
): Promise<{ seconds: number; rssKiB: number; stdout: string; code: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'RSS_KIB=%M', process.execPath, cli, ...args], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rssKiB = Number(/RSS_KIB=(\d+)/.exec(stderr)?.[1] ?? 0);
      if (code !== 0 && code !== 3)
        reject(new Error(`twinvault ${args.join(' ')} failed (${code}): ${stderr}`));
      else resolve({ seconds, rssKiB, stdout, code: code ?? 0 });
    });
  });
}

/** The environment the built CLI runs in against a benchmark's MinIO: its own home and state. */
export function cliEnv(
  minio: { endpoint: string; accessKeyId: string; secretAccessKey: string },
  home: string,
  state: string,
  repository: string,
): NodeJS.ProcessEnv {
  return {
    HOME: home,
    XDG_STATE_HOME: join(home, state),
    AWS_ACCESS_KEY_ID: minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    AWS_ENDPOINT_URL_S3: minio.endpoint,
    AWS_REGION: 'us-east-1',
    TWINVAULT_REPOSITORY: repository,
  };
}
