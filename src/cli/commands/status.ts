import { readFile } from 'node:fs/promises';
import { agentFiles, isAlive, readPid } from '../../agent/agent-files.js';
import type { AgentState, SourceStatus, VerifyStatus } from '../../agent/state.js';
import { stateFolder } from '../../config/paths.js';
import { AlertBook } from '../../notify/alert-book.js';
import { loadCliConfig } from '../context.js';
import { formatDuration } from '../format.js';
import { type GlobalOptions, printResult } from '../output.js';

/**
 * `twinvault status`: what the agent of this config last did and will do next, read from its
 * state file (no lock is taken, so it works while the agent runs).
 */
export async function run(global: GlobalOptions): Promise<void> {
  const config = await loadCliConfig(global);
  const files = agentFiles(stateFolder(), config.configFile);
  const pid = await readPid(files.pid);
  const running = pid !== undefined && isAlive(pid);
  const text = await readFile(files.state, 'utf8').catch(() => undefined);
  const state = text === undefined ? undefined : (JSON.parse(text) as AgentState);
  const known = new Map(state?.sources.map((source) => [source.path, source]));
  const sources = config.sources.map(
    (source): SourceStatus =>
      known.get(source.path) ?? {
        name: source.name ?? source.path,
        path: source.path,
        schedule: '',
        pendingChanges: 0,
      },
  );
  const logFile = config.agent.log.file ?? files.log;
  const alerts = [
    ...(await AlertBook.readRaised(files.alerts)),
    ...(await AlertBook.readRaised(files.overdueAlerts)),
  ];
  const result = {
    agent: {
      running,
      ...(running ? { pid } : {}),
      stateFile: files.state,
      logFile,
      updatedAt: state?.updatedAt,
    },
    sources,
    ...(state?.verify ? { verify: state.verify } : {}),
    alerts,
  };
  printResult(global, result, () => [
    running
      ? `agent running (pid ${pid}), state as of ${state?.updatedAt ?? 'unknown'}`
      : state
        ? `agent not running (last state ${state.updatedAt})`
        : 'no agent has run for this config (start one with `twinvault agent`)',
    `log: ${logFile}`,
    ...(sources.length === 0 ? ['no sources configured'] : sources.flatMap(describeSource)),
    ...describeVerify(state?.verify),
    ...alerts.map((a) => `ALERT ${a.event}: ${a.subject.name} since ${a.since}`),
  ]);
}

function describeVerify(verify: VerifyStatus | undefined): string[] {
  if (!verify)
    return [
      'last verify: none yet (the agent verifies after backups: daily, and reads a slice of the data weekly)',
    ];
  if (verify.error) return [`last verify: ${verify.at}: could not run: ${verify.error}`];
  const archived = verify.notReadArchived ? `; ${verify.notReadArchived} not read (archived)` : '';
  const read = verify.readData ? `, data slice ${verify.readData} read and checked${archived}` : '';
  return [
    `last verify: ${verify.at}: ${verify.ok ? 'ok' : `${verify.problems} PROBLEM(S)`} (${verify.snapshots} snapshots, ${verify.objects} objects${read})`,
    ...(verify.firstProblems ?? []).map((problem) => `  ${problem}`),
    ...(verify.ok
      ? []
      : ['  run "twinvault verify" for all of them, and "twinvault repair --from REPLICA_URL"']),
  ];
}

function describeSource(source: SourceStatus): string[] {
  const lines = [`${source.name}  ${source.path}`];
  const last = source.lastRun;
  if (source.running) lines.push(`  running since ${source.running.since}`);
  if (last) {
    const what =
      last.outcome === 'failed'
        ? `FAILED: ${last.error}`
        : `${last.outcome}, snapshot ${last.snapshot?.slice(0, 8)}, ${last.files?.new ?? 0} new, ${last.files?.changed ?? 0} changed, ${last.files?.skipped ?? 0} skipped`;
    lines.push(`  last run:     ${last.at} (${formatDuration(last.durationMs)}): ${what}`);
  } else lines.push('  last run:     never');
  if (source.lastSuccess && source.lastSuccess !== last)
    lines.push(`  last success: ${source.lastSuccess.at}`);
  if (source.lastError) lines.push(`  last error:   ${source.lastError.at}: ${source.lastError.message}`);
  lines.push(`  pending changes: ${source.pendingChanges}`);
  if (source.nextRunAt) lines.push(`  next run:     ${source.nextRunAt}${source.retryAt ? ' (retry)' : ''}`);
  if (source.nextScanAt) lines.push(`  next full scan: ${source.nextScanAt} (${source.schedule})`);
  return lines;
}
