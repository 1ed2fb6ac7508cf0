import type { S3BackendOptions } from './options.js';

/**
 * Says where the credentials come from, for error messages (a wrong key is found faster when the
 * message says which one was used). Shows at most the access key id's last four characters and
 * never a secret.
 */
export function describeCredentialSource(options: S3BackendOptions): string {
  const env = options.env ?? process.env;
  if (options.credentials) {
    return `the access key in the configuration (${maskKeyId(options.credentials.accessKeyId)})`;
  }
  if (options.profile) return `profile "${options.profile}" from the configuration (shared AWS config files)`;
  if (env.AWS_ACCESS_KEY_ID) {
    return `environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (${maskKeyId(env.AWS_ACCESS_KEY_ID)})`;
  }
  if (env.AWS_PROFILE) return `profile "${env.AWS_PROFILE}" from AWS_PROFILE (shared AWS config files)`;
  return 'the default AWS credential chain (profile "default", SSO, web identity, container or instance role)';
}

export function maskKeyId(accessKeyId: string): string {
  return accessKeyId.length <= 4 ? '…' : `…${accessKeyId.slice(-4)}`;
}
