import { resolve } from 'node:path';
import { Agent } from '../../agent/agent.js';
import { agentFiles, takePidLock } from '../../agent/agent-files.js';
import { createAgentLogger } from '../../agent/log.js';
import { AgentMetrics, parseMetricsAddress } from '../../agent/metrics.js';
import { OverdueProcess } from '../../agent/overdue-process.js';
import type { AgentState } from '../../agent/state.js';
import { openBackend } from '../../backend/registry.js';
import { stateFolder } from '../../config/paths.js';
import { redactUrlPassword } from '../../config/redact.js';
import { openRepository } from '../../repository/repository.js';
import { limitHeapGrowth } from '../../util/heap-limit.js';
import { readJsonFile, writeJsonFile } from '../../util/json-file.js';
import { hostOf, loadCliConfig } from '../context.js';
import type { GlobalOptions } from '../output.js';

/**
 * `twinvault agent`: runs until SIGINT/SIGTERM. The first signal lets a running backup finish;
 * a second abandons it, which is safe too (its manifest, written last, is simply never written).
 * SIGHUP rereads the config.
 */
export async function run(global: GlobalOptions, flags: { metrics?: string } = {}): Promise<void> {
  limitHeapGrowth();
  const metricsAddress = flags.metrics === undefined ? undefined : parseMetricsAddress(flags.metrics);
  const config = await loadCliConfig(global); // a bad config stops the start with its message
  const state = stateFolder();
  const files = agentFiles(state, config.configFile);
  const lock = await takePidLock(files.pid);
  const logFile = config.agent.log.file === undefined ? files.log : config.agent.log.file;
  const logger = createAgentLogger({
    file: logFile === '-' ? '-' : resolve(logFile),
    settings: config.agent.log,
    console: process.stdout,
    ...(global.quiet ? { quiet: true } : {}),
  });
  const metrics = metricsAddress ? new AgentMetrics() : undefined;
  const served = metricsAddress ? await metrics!.serve(metricsAddress.host, metricsAddress.port) : undefined;
  if (served) logger.info({ address: served.address }, 'serving Prometheus metrics at /metrics');
  const previousState = (await readJsonFile(files.state)) as Partial<AgentState> | undefined;
  const agent = new Agent({
    ...(metrics ? { metrics } : {}),
    ...(previousState && typeof previousState === 'object' ? { previousState } : {}),
    loadConfig: () => loadCliConfig(global),
    openRepository: async (current) => {
      const opened = await openBackend(current.repository);
      const backend = metrics ? metrics.counting(opened) : opened;
      try {
        return {
          repository: await openRepository(backend),
          location: redactUrlPassword(backend.location),
          close: () => backend.close(),
        };
      } catch (err) {
        await backend.close().catch(() => {});
        throw err;
      }
    },
    host: (current) => hostOf(current),
    stateFolder: state,
    ownFiles: [state, ...(logFile === '-' ? [] : [resolve(logFile)])],
    logger,
    saveState: (current) => writeJsonFile(files.state, current),
    alertsFile: files.alerts,
    // The same program, started again as the dead man's switch: it outlives a stuck agent.
    startOverdueWatch: () => new OverdueProcess(process.argv[1]!, files.overdueAlerts, logger),
  });

  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'stopping now; the running backup is abandoned (nothing half-written is kept)');
      void lock.release().finally(() => process.exit(130));
      return;
    }
    logger.info({ signal }, 'stopping after the running backup (send the signal again to stop at once)');
    void agent.stop();
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  const onHup = () => void agent.reload();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  try {
    await agent.start();
    await agent.done;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
    await served?.close();
    await lock.release();
  }
}
