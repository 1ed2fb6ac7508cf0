import { createHmac } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { ChannelConfig } from '../../config/notifications-schema.js';
import { renderNotice } from '../messages.js';
import { type Notice, severityOf } from '../notice.js';
import { readSecret } from '../secrets.js';
import type { Channel } from './channel.js';
import { httpRequest } from './http.js';

type WebhookConfig = Extract<ChannelConfig, { type: 'webhook' }>;

export const SIGNATURE_HEADER = 'x-twinvault-signature';
export const TIMESTAMP_HEADER = 'x-twinvault-timestamp';

/**
 * POSTs the notice as JSON (schema in docs/MONITORING.md). With a secret, the body is signed:
 * X-Twinvault-Signature = "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body), the
 * timestamp (Unix seconds) in X-Twinvault-Timestamp, so a receiver can refuse replays.
 */
export function webhookChannel(config: WebhookConfig, clock: Clock, env?: NodeJS.ProcessEnv): Channel {
  const where = `notification channel "${config.name}" (webhook)`;
  return {
    name: config.name,
    type: 'webhook',
    async send(notice) {
      const url = await readSecret(config.url, `${where} url`, env);
      const body = JSON.stringify(webhookBody(notice));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (config.secret) {
        const timestamp = String(Math.floor(clock.now().getTime() / 1000));
        headers[TIMESTAMP_HEADER] = timestamp;
        headers[SIGNATURE_HEADER] = signature(
          await readSecret(config.secret, `${where} secret`, env),
          timestamp,
          body,
        );
      }
      await httpRequest(where, url, { method: 'POST', body, headers });
    },
  };
}

export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The webhook's JSON: version 1 of a documented schema; fields are only ever added. */
export function webhookBody(notice: Notice): Record<string, unknown> {
  const message = renderNotice(notice);
  return {
    version: 1,
    event: notice.event,
    state: notice.state,
    severity: severityOf(notice),
    host: notice.host,
    subject: notice.subject,
    since: notice.since.toISOString(),
    at: notice.at.toISOString(),
    error: notice.error ?? null,
    next: notice.next ?? null,
    details: notice.details ?? {},
    title: message.title,
    text: message.text,
  };
}
