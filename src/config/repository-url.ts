import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

export type RepositoryLocation =
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'file'; path: string }
  | { kind: 'memory'; name: string };

const BUCKET_NAME = /^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$/i;

/** Parses s3://bucket/prefix, file:///folder (or an absolute path) and memory://name. */
export function parseRepositoryUrl(url: string, where = 'repository'): RepositoryLocation {
  const trimmed = url.trim();
  if (isAbsolute(trimmed)) return { kind: 'file', path: resolve(trimmed) };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 's3') return parseS3(trimmed, where);
  if (scheme === 'file') {
    try {
      return { kind: 'file', path: fileURLToPath(trimmed) };
    } catch (cause) {
      throw new ConfigError(
        `${where}: ${JSON.stringify(url)} is not a valid file URL (use file:///absolute/folder)`,
        { cause },
      );
    }
  }
  // Data in memory vanishes at exit: only tests may ask for it.
  if (scheme === 'memory' && process.env.TWINVAULT_ALLOW_MEMORY_REPOSITORY === '1') {
    return { kind: 'memory', name: trimmed.slice('memory://'.length) };
  }
  throw new ConfigError(
    `${where}: ${JSON.stringify(url)} is not a repository URL; use s3://bucket/prefix or file:///folder`,
  );
}

function parseS3(url: string, where: string): RepositoryLocation {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(url);
  const bucket = match?.[1] ?? '';
  if (bucket.includes('@')) {
    throw new ConfigError(
      `${where}: put credentials in the repository settings or the AWS environment, not in the URL`,
    );
  }
  if (!BUCKET_NAME.test(bucket)) {
    throw new ConfigError(
      `${where}: ${JSON.stringify(bucket)} is not a valid bucket name (3 to 63 letters, digits, dots or hyphens) in ${JSON.stringify(url)}`,
    );
  }
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  if (
    prefix
      .split('/')
      .some((segment) => segment === '.' || segment === '..' || (prefix !== '' && segment === ''))
  ) {
    throw new ConfigError(`${where}: the prefix in ${JSON.stringify(url)} has an empty, "." or ".." segment`);
  }
  return { kind: 's3', bucket, prefix };
}
