import { UsageError } from '../errors.js';

/** S3's limit, which every backend shares so a repository can move between them. */
export const MAX_KEY_BYTES = 1024;

/**
 * Rejects keys that some backend could not store faithfully or that could escape a folder root.
 * Higher layers map awkward file paths to safe keys before they get here (DESIGN §1).
 */
export function validateKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new UsageError(`invalid object key ${JSON.stringify(key)}: ${problem}`);
}

function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'it is empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  // A lone UTF-16 surrogate does not survive a UTF-8 round trip; no store can hold it.
  if (Buffer.from(key, 'utf8').toString('utf8') !== key) return 'it is not valid Unicode';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'it contains a control character';
  if (key.startsWith('/') || key.endsWith('/')) return 'it starts or ends with "/"';
  for (const segment of key.split('/')) {
    if (segment === '') return 'it contains an empty path segment ("//")';
    if (segment === '.' || segment === '..') return 'it contains a "." or ".." segment';
  }
  return undefined;
}

export function isValidKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/** A list prefix obeys the key rules, except that it may be empty or end in "/". */
export function validatePrefix(prefix: string): void {
  if (prefix === '') return;
  const problem = keyProblem(prefix.endsWith('/') ? `${prefix}x` : prefix);
  if (problem) throw new UsageError(`invalid list prefix ${JSON.stringify(prefix)}: ${problem}`);
}

/**
 * Orders keys as S3 lists them: by the bytes of their UTF-8 encoding. UTF-16 code units sort the
 * same way below U+D800, so the common case compares without encoding anything.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i), 'utf8'), Buffer.from(b.slice(i), 'utf8'));
  }
  return a.length - b.length;
}

/** Joins a root prefix and a relative key with exactly one "/" between them. */
export function joinKey(prefix: string, key: string): string {
  if (prefix === '') return key;
  return `${prefix.replace(/\/+$/, '')}/${key}`;
}
