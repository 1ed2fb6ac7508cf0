import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
/** tsx's loader by absolute URL, so the child can run from any folder. */
const TSX = pathToFileURL(
  fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url)),
).href;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  home: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (root only): to test files the user cannot read. */
  uid?: number;
}

/**
 * Runs the real CLI entry point in a child process (through tsx, so no build is needed), with a
 * clean environment: HOME and the XDG folders point into `home`, so the developer's own config and
 * AWS settings never leak in.
 */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const child = startCli(args, options);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function startCli(args: string[], options: CliOptions): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: options.home,
    XDG_CONFIG_HOME: `${options.home}/.config`,
    XDG_DATA_HOME: `${options.home}/.local/share`,
    XDG_STATE_HOME: `${options.home}/.local/state`,
    ...options.env,
  };
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd,
    env,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
}
