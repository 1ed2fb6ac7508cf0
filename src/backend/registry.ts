import { parseRepositoryUrl } from '../config/repository-url.js';
import type { RepositoryConfig } from '../config/schema.js';
import type { Backend } from './backend.js';
import { LocalBackend } from './local/local-backend.js';
import { closeRepositoryToOthers } from './local/private-repository.js';
import { MemoryBackend } from './memory/memory-backend.js';
import type { S3BackendOptions } from './s3/options.js';

const memoryBackends = new Map<string, MemoryBackend>();

/** Opens the backend a repository URL names: s3://, file:// (or a path) or memory:// (tests). */
export async function openBackend(
  repository: RepositoryConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Backend> {
  const location = parseRepositoryUrl(repository.url);
  switch (location.kind) {
    case 'file':
      // Repositories written before folders were made private are closed as they are opened.
      await closeRepositoryToOthers(location.path);
      return new LocalBackend(location.path);
    case 'memory': {
      const backend = memoryBackends.get(location.name) ?? new MemoryBackend(`memory://${location.name}`);
      memoryBackends.set(location.name, backend);
      return backend;
    }
    case 's3': {
      // Loaded on demand: the AWS SDK is large, and local repositories should not pay for it.
      const { S3Backend } = await import('./s3/s3-backend.js');
      return new S3Backend(s3Options(repository, location.bucket, location.prefix, env));
    }
  }
}

export function s3Options(
  repository: RepositoryConfig,
  bucket: string,
  prefix: string,
  env: NodeJS.ProcessEnv,
): S3BackendOptions {
  const options: S3BackendOptions = { bucket, prefix, env };
  const { accessKeyId, secretAccessKey, sessionToken } = repository;
  if (accessKeyId && secretAccessKey) {
    options.credentials = sessionToken
      ? { accessKeyId, secretAccessKey, sessionToken }
      : { accessKeyId, secretAccessKey };
  }
  if (repository.serverSideEncryption === 'SSE-S3') options.serverSideEncryption = { type: 'SSE-S3' };
  if (repository.serverSideEncryption === 'SSE-KMS') {
    options.serverSideEncryption =
      repository.kmsKeyId === undefined
        ? { type: 'SSE-KMS' }
        : { type: 'SSE-KMS', kmsKeyId: repository.kmsKeyId };
  }
  const copied = {
    endpoint: repository.endpoint,
    region: repository.region,
    profile: repository.profile,
    pathStyle: repository.pathStyle,
    checksumMode: repository.checksumMode,
    storageClass: repository.storageClass,
    objectLock: repository.objectLock,
    multipartThreshold: repository.multipartThreshold,
    partSize: repository.partSize,
    multipartCopyThreshold: repository.multipartCopyThreshold,
    copyPartSize: repository.copyPartSize,
    partConcurrency: repository.partConcurrency,
    requestTimeoutMs: repository.requestTimeout,
    connectTimeoutMs: repository.connectTimeout,
    maxAttempts: repository.maxAttempts,
  };
  for (const [key, value] of Object.entries(copied)) {
    if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
  }
  return options;
}
