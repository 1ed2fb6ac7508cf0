import { Cron } from 'croner';
import { z } from 'zod';
import { parseKeepWithin } from '../retention/keep-within.js';
import { notificationsSchema } from './notifications-schema.js';
import { byteSize, duration } from './schema-units.js';
import { STORAGE_CLASSES, unwritableClassMessage, WRITABLE_STORAGE_CLASSES } from './storage-classes.js';

export { STORAGE_CLASSES } from './storage-classes.js';

/**
 * The configuration file's schema: the single source for validation, for the TypeScript types and
 * for the JSON Schema shipped in schema/config.schema.json. Objects are strict, so a misspelt key
 * is an error (with a suggestion), never silently ignored.
 */

/** S3 takes at most 5 GiB in one PUT, one part or one CopyObject. */
const FIVE_GIB = 5 * 1024 ** 3;
const partLimited = byteSize.refine(
  (bytes) => bytes <= FIVE_GIB,
  'at most 5GiB (the largest single PUT or part S3 takes)',
);
const timeout = duration.refine((ms) => ms >= 100, 'at least 100ms (0 would disable the timeout)');

const keepCount = z.number().int().min(1).optional();

export const retentionSchema = z
  .strictObject({
    keepLast: keepCount.meta({ description: 'Keep the n newest snapshots.' }),
    keepHourly: keepCount.meta({
      description: 'Keep the newest snapshot of each of the n newest hours that have one.',
    }),
    keepDaily: keepCount.meta({ description: 'The same per day (UTC).' }),
    keepWeekly: keepCount.meta({ description: 'The same per ISO week.' }),
    keepMonthly: keepCount.meta({ description: 'The same per month.' }),
    keepYearly: keepCount.meta({ description: 'The same per year.' }),
    keepWithin: z
      .string()
      .refine(
        isKeepWithin,
        'expected a duration such as "30d", "36h", "90s", "1y2mo" (m is minutes, mo months)',
      )
      .optional()
      .meta({ description: 'Keep snapshots newer than this before the newest one: "30d", "2m", "1y2mo".' }),
    keepTags: z
      .array(z.string().min(1))
      .optional()
      .meta({ description: 'Keep snapshots with any of these tags.' }),
    every: duration
      .default(86_400_000)
      .meta({ description: 'How often the agent applies the policy: default "1d".' }),
    prune: z
      .boolean()
      .default(true)
      .meta({ description: 'Delete the objects no remaining snapshot needs, after forgetting.' }),
  })
  .refine(
    (r) =>
      r.keepLast ||
      r.keepHourly ||
      r.keepDaily ||
      r.keepWeekly ||
      r.keepMonthly ||
      r.keepYearly ||
      r.keepWithin ||
      r.keepTags?.length,
    'a retention policy needs at least one keep rule (e.g. "keepWithin": "30d")',
  )
  .meta({
    description:
      'Which snapshots to keep; the others are forgotten (and pruned) by `twinvault forget` and the agent.',
  });

const repositoryShape = {
  url: z
    .string()
    .min(1)
    .meta({ description: 'Where the repository lives: s3://bucket/prefix or file:///folder.' }),
  endpoint: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    .refine(
      (url) => !/^[a-z]+:\/\/[^/]*@/i.test(url),
      'put credentials in accessKeyId/secretAccessKey or a profile, not in the URL',
    )
    .optional()
    .meta({
      description: 'Endpoint of an S3-compatible store (MinIO, R2, B2, Wasabi...). Absent for AWS.',
    }),
  region: z.string().min(1).optional().meta({ description: 'AWS region of the bucket, e.g. eu-west-1.' }),
  profile: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Profile in the shared AWS config/credentials files.' }),
  accessKeyId: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Static access key id (prefer a profile or env).' }),
  secretAccessKey: z.string().min(1).optional().meta({ description: 'Static secret key; never printed.' }),
  sessionToken: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Session token for temporary credentials.' }),
  pathStyle: z
    .boolean()
    .optional()
    .meta({ description: 'Path-style addressing. Defaults to true when a custom endpoint is set.' }),
  checksumMode: z.enum(['when_supported', 'when_required']).optional().meta({
    description: "when_required for stores that reject the SDK's newer default checksums (uses Content-MD5).",
  }),
  serverSideEncryption: z
    .enum(['SSE-S3', 'SSE-KMS'])
    .optional()
    .meta({ description: 'Server-side encryption.' }),
  kmsKeyId: z.string().min(1).optional().meta({ description: 'KMS key id or ARN for SSE-KMS.' }),
  storageClass: z
    .enum(WRITABLE_STORAGE_CLASSES, { error: (issue) => unwritableClassMessage(issue.input) })
    .optional()
    .meta({
      description:
        'Storage class of new content objects (.twinvault/ stays STANDARD). Archive classes (GLACIER, DEEP_ARCHIVE) only through `twinvault lifecycle`.',
    }),
  multipartThreshold: partLimited.optional(),
  partSize: partLimited.optional(),
  multipartCopyThreshold: partLimited.optional(),
  copyPartSize: partLimited.optional(),
  partConcurrency: z.number().int().min(1).max(64).optional(),
  requestTimeout: timeout.optional(),
  connectTimeout: timeout.optional(),
  maxAttempts: z.number().int().min(1).max(20).optional(),
  retryFor: duration.optional().meta({
    description:
      'How long a backup retries the store after it stopped answering (restarted, network gone), before failing: default "2m".',
  }),
  objectLock: z
    .strictObject({
      mode: z.enum(['GOVERNANCE', 'COMPLIANCE']).meta({
        description:
          'GOVERNANCE: privileged users may lift it; COMPLIANCE: nobody can, not even the account root.',
      }),
      days: z
        .number()
        .int()
        .min(1)
        .max(36_500)
        .meta({ description: 'How long each new object cannot be deleted or overwritten.' }),
    })
    .optional()
    .meta({
      description:
        'Write-once storage against ransomware, in a bucket created with Object Lock (init --create-bucket).',
    }),
};

function checkRepositorySettings(
  repo: {
    kmsKeyId?: string | undefined;
    serverSideEncryption?: string | undefined;
    accessKeyId?: string | undefined;
    secretAccessKey?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (repo.kmsKeyId !== undefined && repo.serverSideEncryption !== 'SSE-KMS') {
    ctx.addIssue({
      code: 'custom',
      path: ['kmsKeyId'],
      message: 'kmsKeyId needs "serverSideEncryption": "SSE-KMS"',
    });
  }
  if ((repo.accessKeyId === undefined) !== (repo.secretAccessKey === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['secretAccessKey'],
      message: 'accessKeyId and secretAccessKey go together',
    });
  }
}

export const repositoryObjectSchema = z.strictObject(repositoryShape).superRefine(checkRepositorySettings);

export const DELETE_POLICIES = ['keep', 'mirror', 'delay'] as const;

export const replicaSchema = z
  .strictObject({
    ...repositoryShape,
    url: repositoryShape.url.meta({
      description: 'Where the replica lives: s3://bucket/prefix (any endpoint) or file:///folder.',
    }),
    deletes: z.enum(DELETE_POLICIES).default('keep').meta({
      description:
        'What objects deleted in the source do here: "keep" (never delete; default), "mirror" (delete too), "delay" (delete once gone from the source for deleteAfter).',
    }),
    deleteAfter: duration.optional().meta({
      description: 'With "deletes": "delay": how long an object must be gone from the source, e.g. "7d".',
    }),
    afterBackup: z.boolean().default(true).meta({
      description:
        'The agent copies each snapshot it makes here right away (false when a Lambda or `replicate --listen` does it).',
    }),
    concurrency: z.number().int().min(1).max(256).default(32).meta({ description: 'Copies in flight.' }),
    retention: retentionSchema.optional().meta({
      description:
        "The replica's own retention policy (`twinvault forget --repo REPLICA_URL`); it may keep longer.",
    }),
  })
  .superRefine((replica, ctx) => {
    checkRepositorySettings(replica, ctx);
    if ((replica.deletes === 'delay') !== (replica.deleteAfter !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['deleteAfter'],
        message: '"deleteAfter" goes with "deletes": "delay", and "delay" needs it',
      });
    }
  });

export const scheduleSchema = z
  .union([
    z.strictObject({
      cron: z
        .string()
        .min(1)
        .refine(isValidCron, 'not a valid cron expression (e.g. "0 * * * *" for hourly)')
        .meta({
          description: 'A cron expression (5 or 6 fields, local time), e.g. "0 * * * *" for hourly.',
        }),
    }),
    z.strictObject({
      every: duration
        .refine((ms) => ms >= 1000, 'at least 1s')
        .meta({
          description: 'An interval, e.g. "15m": a full scan that often, counted from the last one.',
        }),
    }),
  ])
  .meta({ description: 'When the agent runs a full scan: {"cron": "..."} or {"every": "1h"}.' });

export const sourceSchema = z.strictObject({
  path: z.string().min(1).meta({ description: 'A folder to back up.' }),
  name: z
    .string()
    .min(1)
    .regex(/^[^/\\]+$/, 'a source name cannot contain "/" or "\\"')
    .optional()
    .meta({ description: "Name of the source in snapshot keys; defaults to the folder's base name." }),
  include: z.array(z.string().min(1)).optional().meta({
    description:
      'Only files matching one of these patterns (gitignore syntax, from the source folder) are backed up.',
  }),
  exclude: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: 'Patterns to leave out (gitignore syntax, from the source folder).' }),
  allowEmpty: z.boolean().optional().meta({
    description:
      'Back the folder up even when it is empty (or no longer a mount point) while its last snapshot held files; by default such a run fails, as a disk that is not mounted leaves an empty folder.',
  }),
  schedule: scheduleSchema.optional().meta({
    description: "The agent's full-scan schedule for this source; defaults to agent.schedule.",
  }),
  retention: retentionSchema
    .optional()
    .meta({ description: "This source's retention policy; defaults to the top-level one." }),
  rpo: duration.optional().meta({
    description:
      'No successful backup for this long raises "backup-overdue"; default twice the schedule\'s interval.',
  }),
});

export const agentSchema = z.strictObject({
  schedule: scheduleSchema.default({ every: 3_600_000 }).meta({
    description: 'Full scans of every source (besides the real-time changes): default hourly.',
  }),
  quietPeriod: duration.default(2000).meta({
    description: 'After a change, wait until the folder has been quiet this long: default "2s".',
  }),
  maxDelay: duration.default(60_000).meta({
    description: 'A folder that never goes quiet is still backed up this often: default "60s".',
  }),
  retry: z
    .strictObject({
      min: duration.default(5000).meta({ description: 'First wait after a failed backup: "5s".' }),
      max: duration.default(300_000).meta({ description: 'Longest wait between attempts: "5m".' }),
    })
    .default({ min: 5000, max: 300_000 })
    .meta({ description: 'Backoff after failed backups: doubles from min up to max.' }),
  verify: z
    .strictObject({
      every: duration
        .default(86_400_000)
        .meta({ description: 'Check every manifest and object (listings only): "1d".' }),
      readDataEvery: duration
        .default(7 * 86_400_000)
        .meta({ description: 'Download a slice of the objects and check their SHA-256: "7d".' }),
      readDataSlices: z.number().int().min(1).max(1000).default(12).meta({
        description:
          'Each read-data run reads 1 of this many slices, the next one each time: all are read over 12 runs.',
      }),
      enabled: z.boolean().default(true),
    })
    .default({ every: 86_400_000, readDataEvery: 7 * 86_400_000, readDataSlices: 12, enabled: true })
    .meta({
      description: "The agent's integrity checks of the repository (twinvault status shows the last).",
    }),
  log: z
    .strictObject({
      file: z.string().min(1).optional().meta({
        description:
          'Log file; default agent/<id>.log in the state folder (see twinvault status). "-": none.',
      }),
      maxSize: byteSize.default(10 * 1024 * 1024).meta({ description: 'Rotate past this size: "10MiB".' }),
      keep: z.number().int().min(1).max(100).default(5).meta({ description: 'Rotated files kept: 5.' }),
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    })
    .default({ maxSize: 10 * 1024 * 1024, keep: 5, level: 'info' })
    .meta({ description: "The agent's log file (JSON lines), rotated by size." }),
});

export const configSchema = z.strictObject({
  $schema: z.string().optional().meta({ description: 'Path or URL of this JSON Schema, for editors.' }),
  repository: z
    .union([z.string().min(1), repositoryObjectSchema])
    .optional()
    .meta({ description: 'The repository URL, or an object with "url" and S3 settings.' }),
  sources: z.array(sourceSchema).default([]).meta({ description: 'Folders to back up.' }),
  host: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" and "-"')
    .optional()
    .meta({ description: 'Name of this machine in snapshots; defaults to its hostname.' }),
  agent: agentSchema.optional().meta({ description: 'Settings of `twinvault agent`.' }),
  retention: retentionSchema.optional(),
  prices: z.partialRecord(z.enum(STORAGE_CLASSES), z.number().nonnegative()).optional().meta({
    description:
      'Storage prices in USD per GiB-month by class, for `twinvault stats` (AWS list prices by default).',
  }),
  replicas: z
    .array(replicaSchema)
    .default([])
    .meta({ description: 'Independent copies of the repository, kept current by `twinvault replicate`.' }),
  notifications: notificationsSchema.optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigFile = z.output<typeof configSchema>;
export type RepositoryConfig = z.output<typeof repositoryObjectSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type AgentConfig = z.output<typeof agentSchema>;
export type ReplicaConfig = z.output<typeof replicaSchema>;
export type DeletePolicy = (typeof DELETE_POLICIES)[number];
export type RetentionConfig = z.output<typeof retentionSchema>;
export type StorageClass = (typeof STORAGE_CLASSES)[number];

function isKeepWithin(text: string): boolean {
  try {
    parseKeepWithin(text);
    return true;
  } catch {
    return false;
  }
}

function isValidCron(expression: string): boolean {
  try {
    new Cron(expression, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}
