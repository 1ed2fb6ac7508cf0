import type { ChannelConfig } from '../../config/notifications-schema.js';
import { readSecret } from '../secrets.js';
import type { Channel } from './channel.js';
import { httpRequest } from './http.js';

type HeartbeatConfig = Extract<ChannelConfig, { type: 'heartbeat' }>;

/**
 * A URL pinged after each successful backup (healthchecks.io, Uptime Kuma push monitors,
 * Cronitor): the service alerts when the pings stop, even if this machine is gone.
 */
export function heartbeatChannel(config: HeartbeatConfig, env?: NodeJS.ProcessEnv): Channel {
  const where = `notification channel "${config.name}" (heartbeat)`;
  const ping = async (ok: boolean) => {
    const setting = ok ? config.url : config.failUrl;
    if (setting === undefined) return;
    await httpRequest(where, await readSecret(setting, `${where} ${ok ? 'url' : 'failUrl'}`, env), {
      method: 'GET',
    });
  };
  return {
    name: config.name,
    type: 'heartbeat',
    ping,
    // `notify test` pings the success URL: the service shows the ping.
    send: () => ping(true),
  };
}
