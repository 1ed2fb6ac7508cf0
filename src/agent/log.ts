import { chmodSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type Logger, multistream, pino, type StreamEntry } from 'pino';
import pretty from 'pino-pretty';
import { createStream } from 'rotating-file-stream';
import type { AgentConfig } from '../config/schema.js';
import { PRIVATE_FILE, PRIVATE_FOLDER } from '../fs/private-files.js';

export type { Logger };

export interface LogTargets {
  /** Where the file goes ("-": no file). */
  file: string;
  settings: AgentConfig['log'];
  /** The console: human-readable lines on a terminal, JSON lines otherwise. */
  console: NodeJS.WritableStream & { isTTY?: boolean };
  quiet?: boolean;
}

/**
 * The agent's structured log: one JSON object per line in a file rotated by size (agent.log,
 * agent.log.1, ...), and the same records on the console. Only what the agent chooses to log is
 * written; secrets never reach it (repository URLs are logged without passwords, and credentials
 * are redacted should an object holding them ever be logged).
 */
export function createAgentLogger(targets: LogTargets): Logger {
  const streams: StreamEntry[] = [];
  if (!targets.quiet) {
    const toConsole = targets.console.isTTY
      ? pretty({ destination: targets.console, colorize: true, translateTime: 'SYS:standard', sync: true })
      : targets.console;
    streams.push({ level: targets.settings.level, stream: toConsole });
  }
  if (targets.file !== '-') {
    // Private (DESIGN invariant 9): the log names files, hosts and buckets. A folder that exists
    // (say /var/log) keeps its mode; the file is closed even if an older version made it 0644.
    mkdirSync(dirname(targets.file), { recursive: true, mode: PRIVATE_FOLDER });
    const rotated = Array.from({ length: targets.settings.keep }, (_, i) => `${targets.file}.${i + 1}`);
    for (const path of [targets.file, ...rotated]) {
      try {
        chmodSync(path, PRIVATE_FILE);
      } catch {
        // not there (yet): created 0600
      }
    }
    const file = createStream(basename(targets.file), {
      path: dirname(targets.file),
      mode: PRIVATE_FILE,
      size: `${Math.max(1, Math.ceil(targets.settings.maxSize / 1024))}K`,
      rotate: targets.settings.keep,
    });
    streams.push({ level: targets.settings.level, stream: file });
  }
  return pino(
    {
      level: targets.settings.level,
      base: { pid: process.pid },
      redact: {
        paths: ['*.secretAccessKey', '*.sessionToken', '*.accessKeyId', '*.password', '*.token'],
        censor: '[redacted]',
      },
    },
    multistream(streams),
  );
}
