/**
 * What `twinvault service` installs: the agent as a user or system service, per platform. Each
 * renders from the same facts: the command line that starts the agent.
 */
export const SERVICE_KINDS = ['systemd-user', 'systemd', 'cron', 'launchd', 'windows-task'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export interface AgentCommand {
  /** The Node.js executable and the twinvault script, absolute. */
  node: string;
  script: string;
  /** The config file, absolute (the agent and its lock belong to it). */
  configFile: string;
  /** A short name that tells services of different configs apart. */
  id: string;
  /** Environment the agent needs (the state folder, say). */
  env: Record<string, string>;
}

export const LABEL = 'dev.twinvault.agent';

export function defaultKind(platform: NodeJS.Platform = process.platform): ServiceKind {
  if (platform === 'darwin') return 'launchd';
  if (platform === 'win32') return 'windows-task';
  return 'systemd-user';
}

export function serviceName(command: AgentCommand): string {
  return `twinvault-agent-${command.id}`;
}

export function render(kind: ServiceKind, command: AgentCommand): string {
  switch (kind) {
    case 'systemd-user':
    case 'systemd':
      return systemdUnit(command, kind === 'systemd');
    case 'cron':
      return cronLine(command);
    case 'launchd':
      return launchdPlist(command);
    case 'windows-task':
      return windowsTask(command);
  }
}

function args(command: AgentCommand): string[] {
  return [command.node, command.script, '--config', command.configFile, 'agent'];
}

/**
 * systemd's own quoting: the word in double quotes, \\ and " escaped, % doubled (specifiers) and,
 * in command lines only, $ doubled (variable expansion; Environment= does none).
 */
function systemdWord(word: string, commandLine = true): string {
  const quoted = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
  return `"${commandLine ? quoted.replace(/\$/g, '$$$$') : quoted}"`;
}

function systemdUnit(command: AgentCommand, system: boolean): string {
  const env = Object.entries(command.env).map(
    ([key, value]) => `Environment=${systemdWord(`${key}=${value}`, false)}`,
  );
  return [
    '[Unit]',
    `Description=twinvault agent (${command.configFile.replace(/%/g, '%%')})`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${args(command)
      .map((word) => systemdWord(word))
      .join(' ')}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    ...env,
    'Restart=on-failure',
    'RestartSec=30',
    // SIGTERM lets a running backup finish; give it time before systemd escalates.
    'TimeoutStopSec=300',
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

/** POSIX shell quoting: single quotes, with ' written as '\''. */
function shellWord(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/** Cron has no supervisor: start at boot, and every 15 minutes (a running agent's lock turns the extra starts away). */
function cronLine(command: AgentCommand): string {
  const env = Object.entries(command.env).map(([key, value]) => `${key}=${shellWord(value)} `);
  // cron turns an unescaped % into a newline.
  const line = `${env.join('')}${args(command).map(shellWord).join(' ')} --quiet >/dev/null 2>&1`.replace(
    /%/g,
    '\\%',
  );
  return `@reboot ${line} # ${serviceName(command)}\n*/15 * * * * ${line} # ${serviceName(command)}\n`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function launchdPlist(command: AgentCommand): string {
  const env = Object.entries(command.env).map(
    ([key, value]) => `      <key>${xml(key)}</key>\n      <string>${xml(value)}</string>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>${LABEL}.${xml(command.id)}</string>
    <key>ProgramArguments</key>
    <array>
${args(command)
  .map((word) => `      <string>${xml(word)}</string>`)
  .join('\n')}
    </array>
    <key>EnvironmentVariables</key>
    <dict>
${env.join('\n')}
    </dict>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
      <key>SuccessfulExit</key>
      <false/>
    </dict>
    <key>ProcessType</key>
    <string>Background</string>
  </dict>
</plist>
`;
}

/** Windows command-line quoting for one argument (the rules CommandLineToArgvW reverses). */
function windowsWord(word: string): string {
  if (word !== '' && !/[\s"]/.test(word)) return word;
  return `"${word.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

/** A Task Scheduler task that starts at boot and runs whether the user is logged on or not. */
function windowsTask(command: AgentCommand): string {
  const [program, ...rest] = args(command);
  return `<?xml version="1.0" encoding="UTF-8"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>twinvault agent (${xml(command.configFile)})</Description>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>Password</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <StartWhenAvailable>true</StartWhenAvailable>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xml(windowsWord(program!))}</Command>
      <Arguments>${xml(rest.map(windowsWord).join(' '))}</Arguments>
    </Exec>
  </Actions>
</Task>
`;
}
