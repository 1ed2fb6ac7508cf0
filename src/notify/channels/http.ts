import { NotificationError } from '../../errors.js';

const TIMEOUT_MS = 10_000;

/**
 * One HTTP request of a channel. Errors name the channel and the server (scheme and host only:
 * the path of a webhook URL is its secret); 5xx, 408, 429 and network faults are worth a retry.
 */
export async function httpRequest(
  where: string,
  url: string,
  init: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string> },
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method,
      headers: { 'user-agent': 'twinvault', ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new NotificationError(`${where}: cannot reach ${originOf(url)}: ${reasonOf(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  await response.body?.cancel().catch(() => {});
  if (response.ok) return;
  const status = response.status;
  throw new NotificationError(
    `${where}: ${originOf(url)} answered HTTP ${status} ${response.statusText}`.trim(),
    {
      retryable: status >= 500 || status === 408 || status === 429,
      ...(status === 404 || status === 403
        ? { hint: 'check the URL (a revoked webhook answers 403 or 404)' }
        : {}),
    },
  );
}

/** "https://hooks.slack.com": never the path, which holds the token. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a valid URL)';
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
