import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinvault-classes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withClass(storageClass: string, where: 'repository' | 'replica' = 'repository') {
  const repository = { url: 's3://bucket/repo', ...(where === 'repository' ? { storageClass } : {}) };
  const replicas = where === 'replica' ? [{ url: 's3://other/repo', storageClass }] : [];
  await writeFile(join(dir, 'twinvault.json'), JSON.stringify({ repository, replicas }));
  return loadConfig({ cwd: dir, env: {} });
}

async function refusal(storageClass: string, where: 'repository' | 'replica' = 'repository') {
  const err = await withClass(storageClass, where).then(
    () => {
      throw new Error(`expected ${storageClass} to be refused`);
    },
    (e: Error & { code?: string }) => e,
  );
  expect(err.code).toBe('CONFIG_INVALID');
  return err.message;
}

describe('repository.storageClass', () => {
  it.each([
    'STANDARD',
    'STANDARD_IA',
    'ONEZONE_IA',
    'INTELLIGENT_TIERING',
    'GLACIER_IR',
    'REDUCED_REDUNDANCY',
  ])('accepts %s, a class whose objects can be read at once', async (storageClass) => {
    expect((await withClass(storageClass)).repository.storageClass).toBe(storageClass);
  });

  it.each([
    ['GLACIER', '--glacier-days'],
    ['DEEP_ARCHIVE', '--deep-archive-days'],
    ['GLACIER_FLEXIBLE_RETRIEVAL', '--glacier-days'],
    ['deep-archive', '--deep-archive-days'],
    ['Glacier', '--glacier-days'],
  ])('refuses the archive class %s and points to `twinvault lifecycle %s`', async (storageClass, flag) => {
    const message = await refusal(storageClass);
    expect(message).toContain('repository.storageClass');
    expect(message).toContain(`"${storageClass}" is an archive class`);
    expect(message).toContain(`twinvault lifecycle --apply ${flag} N`);
  });

  it('refuses an archive class for a replica as well: restores fall back on it', async () => {
    const message = await refusal('DEEP_ARCHIVE', 'replica');
    expect(message).toContain('replicas[0].storageClass');
    expect(message).toContain('twinvault lifecycle');
  });

  it('names a readable class given in the wrong case, and lists the classes for anything else', async () => {
    expect(await refusal('glacier_ir')).toContain('"glacier_ir" is written "GLACIER_IR"');
    expect(await refusal('GLACIER_INSTANT_RETRIEVAL')).toContain('is written "GLACIER_IR"');
    expect(await refusal('EXPRESS_ONEZONE')).toContain('directory buckets');
    expect(await refusal('COLD')).toContain(
      'expected one of "STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "REDUCED_REDUNDANCY"',
    );
  });

  it('still takes prices for the archive classes, which stats reports', async () => {
    await writeFile(
      join(dir, 'twinvault.json'),
      JSON.stringify({ prices: { GLACIER: 0.0036, DEEP_ARCHIVE: 0.00099 } }),
    );
    expect((await loadConfig({ cwd: dir, env: {} })).prices).toEqual({
      GLACIER: 0.0036,
      DEEP_ARCHIVE: 0.00099,
    });
  });
});
