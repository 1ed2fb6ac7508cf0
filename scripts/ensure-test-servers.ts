/**
 * Builds MinIO and installs moto, cfn-lint and the SMTP sink (aiosmtpd) into the cache outside the clone,
 * if they are not there yet.
 * The test setup does the same on demand; CI calls this first so the build log stands apart.
 */

import { ensureCfnLint } from '../test/servers/cfn-lint.js';
import { ensureMinioBinary } from '../test/servers/minio.js';
import { ensureMotoServer } from '../test/servers/moto.js';
import { ensureSmtpSink } from '../test/servers/smtp-sink.js';

console.log(`MinIO: ${ensureMinioBinary()}`);
console.log(`moto:  ${ensureMotoServer()}`);
console.log(`cfn-lint: ${ensureCfnLint()}`);
console.log(`SMTP sink (aiosmtpd): ${ensureSmtpSink()}`);
