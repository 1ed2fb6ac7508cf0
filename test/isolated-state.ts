/**
 * Vitest setup: twinvault's state folder of in-process tests (and of the processes they start)
 * points into the temporary folder, never at the developer's own. Lock holders make their install
 * id there (src/repository/install-id.ts), one for the whole run as for one machine, so a lock
 * taken by a child process counts as this machine's.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.TWINVAULT_STATE_DIR = join(tmpdir(), `twinvault-test-state-${process.getuid?.() ?? 'user'}`);
