import type { Logger } from 'pino';

/**
 * Runs `check` every `everyMs` without keeping the process alive; a check that throws is logged
 * (as `what`) and the next tick tries again, so a timer can never take its process down.
 */
export function startCheckTimer(
  everyMs: number,
  check: () => void,
  log: Logger,
  what: string,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    try {
      check();
    } catch (err) {
      log.error({ err: (err as Error).message }, `${what} failed; tried again at the next tick`);
    }
  }, everyMs);
  timer.unref();
  return timer;
}
