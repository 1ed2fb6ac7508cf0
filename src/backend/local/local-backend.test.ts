import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackendConformance } from '../testing/conformance.js';
import { LocalBackend } from './local-backend.js';

describeBackendConformance(
  'local folder',
  async () => {
    const root = await mkdtemp(join(tmpdir(), 'twinvault-local-'));
    return { backend: new LocalBackend(root), cleanup: () => rm(root, { recursive: true, force: true }) };
  },
  { largeObjectSize: 12 * 1024 * 1024 + 123, largeCopySize: 11 * 1024 * 1024 },
);
