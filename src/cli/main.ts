#!/usr/bin/env node
import { OVERDUE_PROCESS_ARG } from '../agent/overdue-arg.js';

// The SDK warns on every start that its 2027 releases will need Node 22; our lock file pins a
// release that supports Node 20, so the warning is noise for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

if (process.argv[2] === OVERDUE_PROCESS_ARG) {
  // The agent's dead man's switch, which the agent starts as a child of its own.
  const { runOverdueProcess } = await import('../agent/overdue-process.js');
  await runOverdueProcess();
} else {
  const { run } = await import('./run.js');
  process.exitCode = await run(process.argv.slice(2));
}
