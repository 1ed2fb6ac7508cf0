import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';
import { hasCommand, runStep } from './process.js';

/** Pinned cfn-lint, the CloudFormation linter the replicator's template is checked with. */
export const CFN_LINT_VERSION = '1.58.0';

/** cfn-lint in a virtualenv in the cache, installed the first time. */
export function ensureCfnLint(): string {
  const venv = cacheDir(`cfn-lint-${CFN_LINT_VERSION}`);
  const command = join(venv, 'bin', 'cfn-lint');
  if (existsSync(command)) return command;
  const python = ['python3', 'python'].find((candidate) => hasCommand(candidate));
  if (!python) throw new Error('Python 3 is not installed, so cfn-lint cannot be installed');
  console.log(`installing cfn-lint==${CFN_LINT_VERSION} into ${venv} (first run on this machine only)...`);
  runStep(python, ['-m', 'venv', venv]);
  runStep(join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `cfn-lint==${CFN_LINT_VERSION}`,
  ]);
  return command;
}
