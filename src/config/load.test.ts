import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configJsonSchema } from './json-schema.js';
import { type LoadOptions, loadConfig } from './load.js';
import { defaultRepositoryFolder } from './paths.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(content: string | undefined, options: Partial<LoadOptions> = {}) {
  if (content !== undefined) await writeFile(join(dir, 'twinvault.json'), content);
  return loadConfig({ cwd: dir, env: {}, ...options });
}

async function loadError(
  content: string,
  options: Partial<LoadOptions> = {},
): Promise<Error & { hint?: string }> {
  return load(content, options).then(
    () => {
      throw new Error('expected the config to be rejected');
    },
    (err: Error) => err,
  );
}

describe('loading the config file', () => {
  it("fills in the agent's defaults and reads its settings, per source too", async () => {
    expect((await load('{}')).agent).toEqual({
      schedule: { every: 3_600_000 },
      quietPeriod: 2000,
      maxDelay: 60_000,
      retry: { min: 5000, max: 300_000 },
      log: { maxSize: 10 * 1024 * 1024, keep: 5, level: 'info' },
      verify: { every: 86_400_000, readDataEvery: 7 * 86_400_000, readDataSlices: 12, enabled: true },
    });
    const config = await load(
      JSON.stringify({
        sources: [{ path: '/data', schedule: { cron: '*/15 * * * *' } }],
        agent: {
          schedule: { every: '1m' },
          quietPeriod: '500ms',
          log: { file: '/var/log/tv.log', maxSize: '1MiB' },
        },
      }),
    );
    expect(config.agent).toMatchObject({
      schedule: { every: 60_000 },
      quietPeriod: 500,
      log: { file: '/var/log/tv.log', maxSize: 1024 * 1024, keep: 5 },
    });
    expect(config.sources[0]!.schedule).toEqual({ cron: '*/15 * * * *' });
  });

  it('rejects a schedule that is not a valid cron expression or interval, naming where', async () => {
    const cron = await loadError('{"agent": {"schedule": {"cron": "every tuesday"}}}');
    expect(cron.message).toContain('agent.schedule');
    expect(cron.message).toContain('not a valid cron expression');
    const both = await loadError('{"sources": [{"path": "/x", "schedule": {"every": "soon"}}]}');
    expect(both.message).toContain('sources[0].schedule');
  });

  it('accepts the minimal file that scripts and docs rely on', async () => {
    const config = await load(
      '{"repository": "s3://bucket/prefix", "sources": [{"path": "/home/me/Documents"}]}',
    );
    expect(config.repository).toEqual({ url: 's3://bucket/prefix' });
    expect(config.sources).toEqual([{ path: '/home/me/Documents' }]);
    expect(config.configFile).toBe(join(dir, 'twinvault.json'));
    expect(config.repositoryOrigin).toBe('file');
  });

  it('accepts a repository object with S3 settings, converting sizes and durations', async () => {
    const config = await load(
      JSON.stringify({
        repository: {
          url: 's3://bucket/p',
          endpoint: 'http://127.0.0.1:9000',
          region: 'eu-west-1',
          pathStyle: true,
          checksumMode: 'when_required',
          serverSideEncryption: 'SSE-KMS',
          kmsKeyId: 'alias/backups',
          storageClass: 'STANDARD_IA',
          partSize: '64MiB',
          multipartThreshold: 1048576,
          requestTimeout: '1m30s',
        },
      }),
    );
    expect(config.repository).toMatchObject({
      partSize: 64 * 1024 * 1024,
      multipartThreshold: 1048576,
      requestTimeout: 90_000,
      storageClass: 'STANDARD_IA',
    });
  });

  it('names an unknown key and suggests the closest valid one, at any depth', async () => {
    const top = await loadError('{"reposit": "s3://b/p"}');
    expect(top.message).toContain('reposit: unknown key "reposit"; did you mean "repository"?');
    const nested = await loadError('{"repository": {"url": "s3://b/p", "regoin": "eu-west-1"}}');
    expect(nested.message).toContain('repository.regoin: unknown key "regoin"; did you mean "region"?');
    const inArray = await loadError('{"sources": [{"path": "/a"}, {"pth": "/b"}]}');
    expect(inArray.message).toContain('sources[1].pth: unknown key "pth"; did you mean "path"?');
    const farOff = await loadError('{"zzzzzzzz": 1}');
    expect(farOff.message).toContain('unknown key "zzzzzzzz"');
    expect(farOff.message).not.toContain('did you mean');
  });

  it('names the JSON path and the expected type of a wrong value', async () => {
    const error = await loadError('{"sources": [{"path": 5}]}');
    expect(error.message).toContain(join(dir, 'twinvault.json'));
    expect(error.message).toContain('sources[0].path: expected string, got number 5');
    const repo = await loadError('{"repository": 42}');
    expect(repo.message).toContain('repository: expected string or object, got number 42');
    const size = await loadError('{"repository": {"url": "s3://b/p", "partSize": "lots"}}');
    expect(size.message).toContain('repository.partSize');
    const choice = await loadError('{"repository": {"url": "s3://b/p", "checksumMode": "sometimes"}}');
    expect(choice.message).toContain(
      'repository.checksumMode: expected one of "when_supported", "when_required"',
    );
  });

  it('never echoes a secret in a type error', async () => {
    const error = await loadError(
      '{"repository": {"url": "s3://b/p", "accessKeyId": "AKIA", "secretAccessKey": ["hunter2"]}}',
    );
    expect(error.message).toContain('repository.secretAccessKey: expected string, got object');
    expect(error.message).not.toContain('hunter2');
  });

  it('gives file, line and column for malformed JSON', async () => {
    const error = await loadError(
      '{\n  "repository": "s3://b/p",\n  "sources": [\n    {"path": "/a",}\n  ]\n}',
    );
    expect(error.message).toMatch(new RegExp(`${join(dir, 'twinvault.json')}:4:19: not valid JSON`));
    expect(error.hint).toContain('trailing commas');
  });

  it('rejects a repository URL it cannot use, saying where it came from', async () => {
    const error = await loadError('{"repository": "ftp://host/x"}');
    expect(error.message).toContain(
      `${join(dir, 'twinvault.json')}: repository: "ftp://host/x" is not a repository URL`,
    );
    const flag = await loadError('{}', { repository: 's3://Not_A..Bucket!/x' });
    expect(flag.message).toContain('--repo');
    expect(flag.message).toContain('not a valid bucket name');
  });

  it('applies precedence: file, then environment, then flags', async () => {
    const content = '{"repository": {"url": "s3://from-file/p", "region": "eu-west-1"}}';
    expect((await load(content)).repository.url).toBe('s3://from-file/p');
    const env = await load(content, { env: { TWINVAULT_REPOSITORY: 's3://from-env/p' } });
    expect(env.repository).toEqual({ url: 's3://from-env/p', region: 'eu-west-1' });
    expect(env.repositoryOrigin).toBe('environment');
    const flag = await load(content, {
      env: { TWINVAULT_REPOSITORY: 's3://from-env/p' },
      repository: 's3://from-flag/p',
    });
    expect(flag.repository).toEqual({ url: 's3://from-flag/p', region: 'eu-west-1' });
    expect(flag.repositoryOrigin).toBe('flag');
  });

  it('finds the file from --config, then TWINVAULT_CONFIG, then ./twinvault.json', async () => {
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc', 'a.json'), '{"repository": "s3://aaa/p"}');
    await writeFile(join(dir, 'etc', 'b.json'), '{"repository": "s3://bbb/p"}');
    await writeFile(join(dir, 'twinvault.json'), '{"repository": "s3://local/p"}');
    const env = { TWINVAULT_CONFIG: 'etc/b.json' };
    expect((await loadConfig({ cwd: dir, env, configFile: 'etc/a.json' })).repository.url).toBe('s3://aaa/p');
    expect((await loadConfig({ cwd: dir, env })).repository.url).toBe('s3://bbb/p');
    expect((await loadConfig({ cwd: dir, env: {} })).repository.url).toBe('s3://local/p');
  });

  it('says when the named config file does not exist', async () => {
    await expect(loadConfig({ cwd: dir, env: {}, configFile: 'missing.json' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `config file ${join(dir, 'missing.json')} (from --config) does not exist`,
    });
  });

  it('uses the embedded local repository when none is configured', async () => {
    const config = await load(undefined);
    expect(config.repositoryOrigin).toBe('default');
    expect(config.repository.url).toBe(pathToFileURL(defaultRepositoryFolder()).href);
  });

  it('resolves source paths against the config file folder and expands ~', async () => {
    const config = await load('{"sources": [{"path": "docs"}, {"path": "~/photos", "name": "pics"}]}');
    expect(config.sources).toEqual([
      { path: join(dir, 'docs') },
      { path: join(homedir(), 'photos'), name: 'pics' },
    ]);
  });

  it('rejects half a static key pair and a KMS key without SSE-KMS', async () => {
    const error = await loadError(
      '{"repository": {"url": "s3://b/p", "accessKeyId": "AKIA1234", "kmsKeyId": "k"}}',
    );
    expect(error.message).toContain(
      'repository.secretAccessKey: accessKeyId and secretAccessKey go together',
    );
    expect(error.message).toContain('repository.kmsKeyId: kmsKeyId needs "serverSideEncryption": "SSE-KMS"');
  });
});

describe('replicas in the config', () => {
  const replicas = (list: unknown[]) =>
    JSON.stringify({ repository: 's3://primary/backups', replicas: list });

  it('fills in the replica defaults and reads the delete policy', async () => {
    const config = await load(
      replicas([
        { url: 's3://copy/backups', endpoint: 'https://s3.other.example', region: 'auto' },
        { url: 's3://slow/backups', deletes: 'delay', deleteAfter: '7d', afterBackup: false },
      ]),
    );
    expect(config.replicas).toEqual([
      {
        url: 's3://copy/backups',
        endpoint: 'https://s3.other.example',
        region: 'auto',
        deletes: 'keep',
        afterBackup: true,
        concurrency: 32,
      },
      {
        url: 's3://slow/backups',
        deletes: 'delay',
        deleteAfter: 7 * 86_400_000,
        afterBackup: false,
        concurrency: 32,
      },
    ]);
  });

  it('needs deleteAfter with "delay", and only then', async () => {
    expect((await loadError(replicas([{ url: 's3://copy/x', deletes: 'delay' }]))).message).toContain(
      'replicas[0].deleteAfter',
    );
    expect((await loadError(replicas([{ url: 's3://copy/x', deleteAfter: '1d' }]))).message).toContain(
      '"deleteAfter" goes with "deletes": "delay"',
    );
  });

  it('reads notification channels with defaults, and secret files from the config folder', async () => {
    const config = await load(
      JSON.stringify({
        sources: [{ path: 'docs', rpo: '4h' }],
        notifications: {
          channels: [
            { type: 'slack', name: 'chat', url: { file: 'slack-url' } },
            {
              type: 'email',
              name: 'mail',
              host: 'smtp.example.org',
              from: 'a@example.org',
              to: ['b@example.org'],
            },
          ],
        },
      }),
    );
    expect(config.sources[0]!.rpo).toBe(4 * 3_600_000);
    expect(config.notifications).toMatchObject({
      storageUnreachableAfter: 900_000,
      replicationLagOver: 7_200_000,
      checkEvery: 60_000,
      channels: [
        { type: 'slack', name: 'chat', url: { file: join(dir, 'slack-url') } },
        { type: 'email', security: 'starttls' },
      ],
    });
    expect((await load('{}')).notifications.channels).toEqual([]);
  });

  it('rejects a bad notification channel, naming where', async () => {
    const channels = (list: unknown[]) => JSON.stringify({ notifications: { channels: list } });
    expect((await loadError(channels([{ type: 'pager', name: 'x' }]))).message).toContain(
      'notifications.channels[0].type: expected one of "webhook", "slack", "sns", "email", "heartbeat", got "pager"',
    );
    expect(
      (await loadError(channels([{ type: 'slack', name: 'x', url: 'hooks.slack.com/x' }]))).message,
    ).toContain('expected an http:// or https:// URL');
    expect(
      (await loadError(channels([{ type: 'webhook', name: 'x', url: 'https://user:pw@example.org/hook' }])))
        .message,
    ).toContain('a URL with a user name or password cannot be used');
    const twice = { type: 'webhook', name: 'hook', url: 'https://example.org/a' };
    expect((await loadError(channels([twice, twice]))).message).toContain('two channels are named "hook"');
    expect((await loadError(channels([{ ...twice, events: ['backup-exploded'] }]))).message).toContain(
      'notifications.channels[0].events[0]',
    );
    expect(
      (
        await loadError(
          channels([
            { type: 'email', name: 'm', host: 'h', from: 'a@b.org', to: ['c@d.org'], username: 'u' },
          ]),
        )
      ).message,
    ).toContain('username and password go together');
  });

  it('--repo naming a configured replica takes its endpoint and keys (to restore from it)', async () => {
    const config = await load(
      replicas([
        {
          url: 's3://copy/backups',
          endpoint: 'https://s3.other.example',
          accessKeyId: 'AK',
          secretAccessKey: 'SK',
        },
      ]),
      { repository: 's3://copy/backups/' },
    );
    expect(config.repository).toEqual({
      url: 's3://copy/backups',
      endpoint: 'https://s3.other.example',
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
    });
  });
});

describe('the shipped JSON Schema', () => {
  it('is the one generated from the zod schema (run "npm run schema" after changing it)', async () => {
    const shipped = JSON.parse(
      await readFile(new URL('../../schema/config.schema.json', import.meta.url), 'utf8'),
    );
    expect(shipped).toEqual(configJsonSchema());
  });

  it('describes the repository as a URL string or an object with S3 settings', () => {
    const schema = configJsonSchema() as {
      properties: Record<string, { anyOf?: Array<{ type: string; properties?: object }> }>;
    };
    const variants = schema.properties.repository?.anyOf ?? [];
    expect(variants.map((v) => v.type)).toEqual(['string', 'object']);
    expect(Object.keys(variants[1]?.properties ?? {})).toEqual(
      expect.arrayContaining(['url', 'endpoint', 'region', 'profile']),
    );
  });
});
