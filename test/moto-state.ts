import type { S3ServerInfo } from './servers/global-setup.js';

type Progression = { progression: 'immediate' } | { progression: 'manual'; times: number };

/**
 * moto's state manager (`/moto-api/state-manager/set-transition`): how its models move between
 * states. An S3 restore goes None → IN_PROGRESS → RESTORED, and moto reports both None and
 * RESTORED as restored once RestoreObject was called. "immediate" (moto's default) jumps to the
 * end; "manual" with `times: N` moves one step when the restore state is read after N reads of
 * the object (each HEAD or GET counts; the count restarts at each step). The setting is global to
 * the server: only one test file changes it.
 */
export async function setRestoreProgression(server: S3ServerInfo, transition: Progression): Promise<void> {
  const response = await fetch(`${server.endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 's3::keyrestore', transition }),
  });
  if (response.status !== 201) throw new Error(`moto refused the transition: HTTP ${response.status}`);
}

/**
 * Leaves restores already requested in progress until setRestoreProgression(immediate): one read
 * of each object (`readEach`, a HEAD) with times 1 moves it to IN_PROGRESS, where a count of 1,000
 * keeps it.
 */
export async function holdRestoresInProgress(
  server: S3ServerInfo,
  readEach: () => Promise<void>,
): Promise<void> {
  await setRestoreProgression(server, { progression: 'manual', times: 1 });
  await readEach();
  await setRestoreProgression(server, { progression: 'manual', times: 1000 });
}
