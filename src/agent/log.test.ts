import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgentLogger } from './log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const settings = { maxSize: 4096, keep: 2, level: 'info' as const };

describe('the agent log', () => {
  it('writes JSON lines to the console and the file, with secrets redacted', async () => {
    const console = new PassThrough();
    let printed = '';
    console.on('data', (chunk) => {
      printed += chunk;
    });
    const file = join(dir, 'agent.log');
    const log = createAgentLogger({ file, settings, console });
    log.info({ repository: { url: 's3://b/p', secretAccessKey: 'SECRET' }, files: 3 }, 'backup finished');
    log.debug('not at info level');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'backup finished', files: 3, repository: { url: 's3://b/p' } });
    expect(JSON.stringify(lines[0])).not.toContain('SECRET');
    expect(JSON.parse(printed.trim())).toEqual(lines[0]);
  });

  it('prints human-readable lines on a terminal, while the file keeps JSON', async () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true });
    let printed = '';
    terminal.on('data', (chunk) => {
      printed += chunk;
    });
    const file = join(dir, 'agent.log');
    createAgentLogger({ file, settings, console: terminal }).info({ snapshot: 'abc123' }, 'backup finished');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(printed).toContain('INFO');
    expect(printed).toContain('backup finished');
    expect(printed).toContain('snapshot');
    expect(printed).toContain('abc123');
    expect(() => JSON.parse(printed.trim())).toThrow();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      msg: 'backup finished',
      snapshot: 'abc123',
    });
  });

  it('rotates the file by size and keeps the configured number of old ones', async () => {
    const file = join(dir, 'agent.log');
    const log = createAgentLogger({ file, settings, console: new PassThrough(), quiet: true });
    for (let i = 0; i < 100; i++) {
      log.info({ i, padding: 'x'.repeat(200) }, 'line');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await readdir(dir)).sort()).toEqual(['agent.log', 'agent.log.1', 'agent.log.2']);
  });
});
