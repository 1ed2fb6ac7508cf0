import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./hold-lock.ts', import.meta.url));
const TSX = pathToFileURL(
  fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url)),
).href;

/** Starts a real process that takes a lock on a local repository folder; resolves once it holds it. */
export async function holdLock(
  folder: string,
  kind: 'exclusive' | 'shared' | 'writing',
): Promise<{ child: ChildProcess; key: string; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', TSX, SCRIPT, folder, kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const key = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /locked (\S+)\n/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before locking`)));
  });
  return {
    child,
    key,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
