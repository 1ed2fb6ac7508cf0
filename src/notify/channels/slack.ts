import type { ChannelConfig } from '../../config/notifications-schema.js';
import { renderNotice } from '../messages.js';
import { type Notice, severityOf } from '../notice.js';
import { readSecret } from '../secrets.js';
import type { Channel } from './channel.js';
import { httpRequest } from './http.js';

type SlackConfig = Extract<ChannelConfig, { type: 'slack' }>;

/**
 * A Slack incoming webhook, or any service that takes its payload (Mattermost, Rocket.Chat,
 * Discord's ".../slack" URLs): `text` in mrkdwn, which all of them show.
 */
export function slackChannel(config: SlackConfig, env?: NodeJS.ProcessEnv): Channel {
  const where = `notification channel "${config.name}" (slack)`;
  return {
    name: config.name,
    type: 'slack',
    async send(notice) {
      const url = await readSecret(config.url, `${where} url`, env);
      await httpRequest(where, url, {
        method: 'POST',
        body: JSON.stringify(slackBody(notice)),
        headers: { 'content-type': 'application/json' },
      });
    },
  };
}

const ICONS = { critical: ':red_circle:', warning: ':warning:', info: ':large_green_circle:' } as const;

export function slackBody(notice: Notice): { text: string } {
  const message = renderNotice(notice);
  return {
    text: `${ICONS[severityOf(notice)]} *${escapeMrkdwn(message.title)}*\n${escapeMrkdwn(message.text)}`,
  };
}

/** Slack's three control characters; everything else is shown as written. */
function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
