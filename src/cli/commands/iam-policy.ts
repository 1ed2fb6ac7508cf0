import { iamPolicy, ROLES, type Role } from '../../aws/iam-policy.js';
import { UsageError } from '../../errors.js';
import { targetOf } from '../../replicate/targets.js';
import { hostOf, loadCliConfig } from '../context.js';
import type { GlobalOptions } from '../output.js';

/** `twinvault iam-policy ROLE`: prints the least-privilege IAM policy JSON for a role. */
export async function run(
  global: GlobalOptions,
  flags: { replica?: string; host?: string },
  args: string[],
): Promise<void> {
  const role = args[0] as Role;
  if (!ROLES.includes(role))
    throw new UsageError(`unknown role ${JSON.stringify(role)}; one of ${ROLES.join(', ')}`);
  const config = await loadCliConfig(global);
  const replica = flags.replica ?? (role === 'replicator' ? config.replicas[0]?.url : undefined);
  const policy = iamPolicy({
    role,
    repository: config.repository.url,
    ...(replica ? { replica, deletes: targetOf(config, replica).deletes.policy !== 'keep' } : {}),
    host: flags.host ?? hostOf(config),
    objectLock: config.repository.objectLock !== undefined,
  });
  process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
}
