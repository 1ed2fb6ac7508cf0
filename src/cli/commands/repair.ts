import { openBackend } from '../../backend/registry.js';
import { targetOf } from '../../replicate/targets.js';
import { parseReadSubset } from '../../verify/read-subset.js';
import { repairRepository } from '../../verify/repair.js';
import { loadCliConfig } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { type GlobalOptions, printResult } from '../output.js';

/** `twinvault repair --from URL`: heals the repository from a healthy copy. */
export async function run(
  global: GlobalOptions,
  flags: { from: string; dryRun?: boolean; readData?: string | true },
): Promise<void> {
  const readData = flags.readData === undefined ? undefined : parseReadSubset(flags.readData);
  // The bare backend, not withRepository: a damaged or missing config is among what repair fixes.
  const config = await loadCliConfig(global);
  const backend = await openBackend(config.repository);
  {
    const healthy = await openBackend(targetOf(config, flags.from).settings);
    try {
      const result = await repairRepository(backend, healthy, {
        dryRun: flags.dryRun ?? false,
        ...(readData ? { readData } : {}),
      });
      printResult(global, result, () => [
        `${result.found.length} problem(s) found in ${backend.location}`,
        ...result.repaired.map(
          (key) => `  ${result.dryRun ? 'would repair' : 'repaired'} ${key} from ${healthy.location}`,
        ),
        ...result.unrepaired.map((u) => `  NOT repaired: ${u.key}: ${u.message}`),
      ]);
      // Problems left, or (dry run) found: not a clean repository yet.
      if (result.unrepaired.length > 0 || (result.dryRun && result.found.length > 0))
        process.exitCode = EXIT.integrity;
    } finally {
      await healthy.close();
      await backend.close();
    }
  }
}
