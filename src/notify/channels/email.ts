import { readFile } from 'node:fs/promises';
import type { ChannelConfig } from '../../config/notifications-schema.js';
import { ConfigError, NotificationError } from '../../errors.js';
import { renderNotice } from '../messages.js';
import { readSecret } from '../secrets.js';
import type { Channel } from './channel.js';

type EmailConfig = Extract<ChannelConfig, { type: 'email' }>;

const TIMEOUT_MS = 15_000;

/**
 * E-mail over SMTP with nodemailer. "starttls" requires the upgrade to TLS (requireTLS): a server
 * or a man in the middle that does not offer it gets no message and no password.
 */
export function emailChannel(config: EmailConfig, env?: NodeJS.ProcessEnv): Channel {
  const port = config.port ?? (config.security === 'tls' ? 465 : 587);
  const where = `notification channel "${config.name}" (email via ${config.host}:${port})`;
  // Loaded when the channel is set up (see sns.ts), and only when there is one.
  const mailer = import('nodemailer');
  mailer.catch(() => {});
  return {
    name: config.name,
    type: 'email',
    async send(notice) {
      const { default: nodemailer } = await mailer;
      const transport = nodemailer.createTransport({
        host: config.host,
        port,
        secure: config.security === 'tls',
        requireTLS: config.security === 'starttls',
        connectionTimeout: TIMEOUT_MS,
        greetingTimeout: TIMEOUT_MS,
        socketTimeout: TIMEOUT_MS,
        ...(config.username && config.password
          ? {
              auth: {
                user: config.username,
                pass: await readSecret(config.password, `${where} password`, env),
              },
            }
          : {}),
        ...(config.caFile ? { tls: { ca: await readCa(config.caFile, where) } } : {}),
      });
      const message = renderNotice(notice);
      try {
        await transport.sendMail({
          from: config.from,
          to: config.to,
          subject: `[twinvault] ${message.title}`,
          text: message.text,
          headers: { 'X-Twinvault-Event': `${notice.event}; state=${notice.state}` },
        });
      } catch (err) {
        const e = err as { code?: string; responseCode?: number; message: string };
        throw new NotificationError(`${where}: ${e.message}`, {
          cause: err,
          // 5xx answers (bad login, refused recipient) will not change by themselves.
          retryable: e.code !== 'EAUTH' && !(e.responseCode !== undefined && e.responseCode >= 500),
          ...(e.code === 'EAUTH' ? { hint: 'check the username and password of the channel' } : {}),
        });
      } finally {
        transport.close();
      }
    },
  };
}

async function readCa(file: string, where: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ConfigError(`${where}: cannot read caFile ${file}: ${(err as NodeJS.ErrnoException).code}`, {
      cause: err,
    });
  }
}
