import { ConfigError, NotificationError } from '../../errors.js';

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
  checkUrl(where, url);
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

/** A URL read from the environment or a file gets the checks the config gives inline ones. */
function checkUrl(where: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${where}: the URL is not valid (expected https://host/...)`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new ConfigError(`${where}: the URL must be http:// or https://, not ${parsed.protocol}`);
  if (parsed.username || parsed.password)
    throw new ConfigError(
      `${where}: the URL holds a user name or password, which HTTP clients refuse to send`,
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

/** Why a request failed, from its code only: fetch's own messages can quote the whole URL. */
function reasonOf(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? 'the request could not be made';
}
