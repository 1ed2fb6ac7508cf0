import { IntegrityError } from '../errors.js';

/** The error for a manifest that cannot be read as it is: it names the manifest and what is wrong. */
export function manifestDamaged(where: string, what: string, cause?: unknown): IntegrityError {
  return new IntegrityError(`manifest ${where} is damaged: ${what}`, {
    ...(cause === undefined ? {} : { cause }),
    hint: 'run "twinvault verify"; a replica may hold an intact copy',
  });
}
