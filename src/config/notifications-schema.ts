import { z } from 'zod';
import { duration } from './schema-units.js';

/** What can go wrong, as channels subscribe to it; each also has a recovery message. */
export const ALERT_EVENTS = [
  'backup-failed',
  'backup-partial',
  'backup-overdue',
  'storage-unreachable',
  'replication-lag',
  'verify-problems',
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** A secret is written inline, or kept out of the config file in an environment variable or a file. */
export const secretSchema = z
  .union([
    z.string().min(1),
    z.strictObject({ env: z.string().min(1).meta({ description: 'Name of an environment variable.' }) }),
    z.strictObject({
      file: z
        .string()
        .min(1)
        .meta({ description: 'Path of a file holding it (surrounding whitespace ignored).' }),
    }),
  ])
  .meta({
    description: 'A secret: the value itself, {"env": "NAME"} (an environment variable) or {"file": "PATH"}.',
  });
export type SecretSetting = z.output<typeof secretSchema>;

/** A URL that may carry a token (Slack, heartbeat services): checked here when written inline. */
const secretUrl = secretSchema
  .refine(
    (value) => typeof value !== 'string' || /^https?:\/\/[^/\s]+/i.test(value),
    'expected an http:// or https:// URL (or {"env": "NAME"} / {"file": "PATH"} holding one)',
  )
  .refine(
    (value) => typeof value !== 'string' || !/^https?:\/\/[^/@\s]*@/i.test(value),
    'a URL with a user name or password cannot be used (HTTP clients refuse to send it)',
  );

const channelCommon = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-" (at most 64)')
    .meta({ description: 'Name of the channel, in logs and `twinvault notify test NAME`.' }),
  events: z.array(z.enum(ALERT_EVENTS)).min(1).optional().meta({
    description: 'The events this channel gets (with their recoveries); default all of them.',
  }),
  sources: z.array(z.string().min(1)).min(1).optional().meta({
    description: 'Only events of these sources (by name); replica and repository events still come.',
  }),
};

const webhookChannel = z.strictObject({
  type: z.literal('webhook'),
  ...channelCommon,
  url: secretUrl.meta({ description: 'Where the JSON body is POSTed.' }),
  secret: secretSchema.optional().meta({
    description: 'Key of the HMAC-SHA256 signature sent in X-Twinvault-Signature (see docs/MONITORING.md).',
  }),
});

const slackChannel = z.strictObject({
  type: z.literal('slack'),
  ...channelCommon,
  url: secretUrl.meta({
    description: 'A Slack incoming webhook URL (or Mattermost, Rocket.Chat, Discord ".../slack"). A secret.',
  }),
});

const snsChannel = z.strictObject({
  type: z.literal('sns'),
  ...channelCommon,
  topicArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
      'expected an SNS topic ARN',
    )
    .meta({ description: 'arn:aws:sns:REGION:ACCOUNT:TOPIC' }),
  region: z.string().min(1).optional().meta({ description: "Defaults to the ARN's region." }),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .meta({ description: 'Only for SNS-compatible services.' }),
  profile: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'AWS profile; default credential chain otherwise.' }),
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: secretSchema.optional(),
});

const emailChannel = z.strictObject({
  type: z.literal('email'),
  ...channelCommon,
  host: z.string().min(1).meta({ description: 'SMTP server.' }),
  port: z
    .number()
    .int()
    .min(1)
    .max(65_535)
    .optional()
    .meta({ description: 'Default 587 with "starttls", 465 with "tls".' }),
  security: z.enum(['starttls', 'tls']).default('starttls').meta({
    description:
      '"starttls" (port 587: the connection must be upgraded to TLS, or nothing is sent) or "tls" (port 465).',
  }),
  username: z.string().min(1).optional(),
  password: secretSchema.optional(),
  from: z.email().meta({ description: 'Sender address.' }),
  to: z.array(z.email()).min(1).meta({ description: 'Recipients.' }),
  caFile: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "PEM file of the CA that signed the server's certificate, if not a public one." }),
});

const heartbeatChannel = z.strictObject({
  type: z.literal('heartbeat'),
  ...channelCommon,
  url: secretUrl.meta({
    description: 'Pinged (GET) after each successful backup: healthchecks.io, Uptime Kuma push, Cronitor...',
  }),
  failUrl: secretUrl.optional().meta({
    description: 'Pinged when a backup fails for good reason (e.g. healthchecks.io\'s ".../fail").',
  }),
});

export const channelSchema = z.discriminatedUnion('type', [
  webhookChannel,
  slackChannel,
  snsChannel,
  emailChannel,
  heartbeatChannel,
]);
export type ChannelConfig = z.output<typeof channelSchema>;

export const notificationsSchema = z
  .strictObject({
    channels: z.array(channelSchema).default([]).meta({ description: 'Where notifications go.' }),
    storageUnreachableAfter: duration.default(900_000).meta({
      description: 'Storage failing this long raises "storage-unreachable": default "15m".',
    }),
    replicationLagOver: duration.default(7_200_000).meta({
      description: 'A replica behind for longer than this raises "replication-lag": default "2h".',
    }),
    checkEvery: duration
      .refine((ms) => ms >= 10, 'at least 10ms')
      .default(60_000)
      .meta({ description: 'How often overdue backups, storage and lag are checked: default "1m".' }),
  })
  .superRefine((settings, ctx) => {
    const seen = new Set<string>();
    settings.channels.forEach((channel, index) => {
      if (seen.has(channel.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['channels', index, 'name'],
          message: `two channels are named "${channel.name}"`,
        });
      }
      seen.add(channel.name);
      if (
        channel.type === 'sns' &&
        (channel.accessKeyId === undefined) !== (channel.secretAccessKey === undefined)
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['channels', index, 'secretAccessKey'],
          message: 'accessKeyId and secretAccessKey go together',
        });
      }
      if (channel.type === 'email' && (channel.username === undefined) !== (channel.password === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['channels', index, 'password'],
          message: 'username and password go together',
        });
      }
    });
  })
  .meta({ description: 'Alerts when backups, storage, replicas or verify go wrong, and their recoveries.' });
export type NotificationsConfig = z.output<typeof notificationsSchema>;

export const DEFAULT_NOTIFICATIONS: NotificationsConfig = {
  channels: [],
  storageUnreachableAfter: 900_000,
  replicationLagOver: 7_200_000,
  checkEvery: 60_000,
};
