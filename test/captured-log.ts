import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';

/** A pino logger whose JSON lines are kept, for tests that check what was logged (and what not). */
export function capturedLog(): {
  log: Logger;
  lines: string[];
  records: () => Array<Record<string, unknown>>;
} {
  const lines: string[] = [];
  const log = pino(
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { log, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
