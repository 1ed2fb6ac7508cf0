import { openBackend } from '../../backend/registry.js';
import { systemClock } from '../../clock.js';
import { initRepository } from '../../repository/repository.js';
import { loadCliConfig } from '../context.js';
import { type GlobalOptions, printResult } from '../output.js';

export async function run(
  global: GlobalOptions,
  options: { createBucket?: boolean; allowNonempty?: boolean },
): Promise<void> {
  const config = await loadCliConfig(global);
  const backend = await openBackend(config.repository);
  try {
    // A local folder is created as needed; a bucket only when asked to.
    if (
      options.createBucket ||
      config.repository.url.startsWith('file:') ||
      config.repository.url.startsWith('/')
    ) {
      await backend.create();
    }
    await backend.check();
    const repository = await initRepository(backend, {
      clock: systemClock,
      allowNonEmpty: options.allowNonempty ?? false,
    });
    printResult(
      global,
      { id: repository.config.id, location: backend.location, created: repository.config.created },
      () => [`created repository ${repository.config.id.slice(0, 8)} at ${backend.location}`],
    );
  } finally {
    await backend.close();
  }
}
