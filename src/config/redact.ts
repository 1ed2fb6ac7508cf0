const SECRET_KEY = /secret|token|password|passphrase/i;
const REDACTED = '***';

export function isSecretKey(key: PropertyKey | undefined): boolean {
  return typeof key === 'string' && SECRET_KEY.test(key);
}

/**
 * A deep copy with every secret replaced (DESIGN invariant 6): values under secret-sounding keys,
 * passwords inside URLs, and all but the last four characters of access key ids.
 */
export function redact<T>(value: T): T {
  return redactValue(value, undefined) as T;
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => redactValue(item, undefined));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  if (typeof value !== 'string') return value;
  if (isSecretKey(key)) return REDACTED;
  if (key === 'accessKeyId') return value.length > 4 ? `${REDACTED}${value.slice(-4)}` : REDACTED;
  // Webhook and ping URLs carry their token in the path (Slack, healthchecks.io).
  if ((key === 'url' || key === 'failUrl') && /^https?:\/\//i.test(value)) return redactUrlPath(value);
  return redactUrlPassword(value);
}

/** Every "scheme://user:pass@host" in the text becomes "scheme://user:***@host". */
export function redactUrlPassword(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/:@\s"']*):[^@/\s"']+@/gi, `$1:${REDACTED}@`);
}

/** "https://hooks.slack.com/services/T0/B0/XYZ" becomes "https://hooks.slack.com/***": the token is in the path. */
export function redactUrlPath(url: string): string {
  const match = /^(https?:\/\/)(?:[^/@\s]*@)?([^/?#\s]+)/i.exec(url);
  return match ? `${match[1]}${match[2]}/${REDACTED}` : REDACTED;
}
