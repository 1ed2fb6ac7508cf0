import { resolve } from 'node:path';
import { configId } from '../../agent/agent-files.js';
import { UsageError } from '../../errors.js';
import { installService, systemHost, uninstallService } from '../../service/install.js';
import {
  type AgentCommand,
  defaultKind,
  render,
  SERVICE_KINDS,
  type ServiceKind,
} from '../../service/units.js';
import { loadCliConfig } from '../context.js';
import type { GlobalOptions } from '../output.js';

/** Environment worth passing on to the agent; never credentials (those belong in a profile). */
const PASSED_ON = [
  'TWINVAULT_STATE_DIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
];

export async function run(global: GlobalOptions, flags: { kind?: string }, args: string[]): Promise<void> {
  const action = args[0];
  const kind = (flags.kind ?? defaultKind()) as ServiceKind;
  if (!SERVICE_KINDS.includes(kind))
    throw new UsageError(`unknown service kind "${flags.kind}"`, {
      hint: `one of: ${SERVICE_KINDS.join(', ')}`,
    });
  const config = await loadCliConfig(global);
  if (!config.configFile)
    throw new UsageError('the agent service needs a config file', {
      hint: 'write one with "repository" and "sources" (see docs/CONFIG.md) and pass it with --config',
    });
  const command: AgentCommand = {
    node: process.execPath,
    script: resolve(process.argv[1]!),
    configFile: config.configFile,
    id: configId(config.configFile),
    env: Object.fromEntries(PASSED_ON.flatMap((key) => (process.env[key] ? [[key, process.env[key]!]] : []))),
  };
  if (action === 'print') {
    process.stdout.write(render(kind, command));
    return;
  }
  const lines =
    action === 'install'
      ? await installService(kind, command, systemHost())
      : await uninstallService(kind, command, systemHost());
  if (!global.quiet) process.stdout.write(`${lines.join('\n')}\n`);
}
