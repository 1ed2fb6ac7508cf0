import type { ChannelConfig } from '../../config/notifications-schema.js';
import type { Notice } from '../notice.js';

/** Where notices go. send() throws a NotificationError; isRetryable says whether trying again may help. */
export interface Channel {
  readonly name: string;
  readonly type: ChannelConfig['type'];
  send(notice: Notice): Promise<void>;
  /** Heartbeat channels: a ping after each success (and on failure, if they have a failUrl). */
  ping?(ok: boolean): Promise<void>;
}

/** Whether a channel subscribes to a notice: its events (a test goes everywhere) and its sources. */
export function channelWants(config: ChannelConfig, notice: Notice): boolean {
  if (notice.event === 'test') return true;
  if (config.type === 'heartbeat') return false;
  if (config.events && !config.events.includes(notice.event)) return false;
  return !(
    config.sources &&
    notice.subject.kind === 'source' &&
    !config.sources.includes(notice.subject.name)
  );
}
