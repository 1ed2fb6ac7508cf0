import type { Clock } from '../../clock.js';
import type { ChannelConfig } from '../../config/notifications-schema.js';
import type { Channel } from './channel.js';
import { emailChannel } from './email.js';
import { heartbeatChannel } from './heartbeat.js';
import { slackChannel } from './slack.js';
import { snsChannel } from './sns.js';
import { webhookChannel } from './webhook.js';

export function makeChannel(config: ChannelConfig, clock: Clock, env?: NodeJS.ProcessEnv): Channel {
  switch (config.type) {
    case 'webhook':
      return webhookChannel(config, clock, env);
    case 'slack':
      return slackChannel(config, env);
    case 'sns':
      return snsChannel(config, env);
    case 'email':
      return emailChannel(config, env);
    case 'heartbeat':
      return heartbeatChannel(config, env);
  }
}
