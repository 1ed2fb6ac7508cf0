#!/usr/bin/env node
import { run } from './run.js';

// The SDK warns on every start that its 2027 releases will need Node 22; our lock file pins a
// release that supports Node 20, so the warning is noise for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await run(process.argv.slice(2));
