import { describe, expect, it } from 'vitest';
import { bodyFromBuffer } from '../backend/body.js';
import { MemoryBackend } from '../backend/memory/memory-backend.js';
import { CountingBackend } from '../backend/wrap/counting.js';
import { findArchived, inspectObjects } from './find-archived.js';

async function folderOf(count: number, folder = 'laptop/20260101_000000/') {
  const memory = new MemoryBackend('memory://find');
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${folder}f${String(i).padStart(5, '0')}`;
    await memory.put(key, bodyFromBuffer('x'));
    keys.push(key);
  }
  return { memory, keys, counting: new CountingBackend(memory) };
}

describe('inspectObjects', () => {
  it('finds one file of a large folder with one listing from just before it, and no HEAD', async () => {
    const { keys, counting } = await folderOf(300);
    const found = await inspectObjects(counting, [{ key: keys[150]!, size: 1 }]);
    expect([...found.keys()]).toEqual([keys[150]]);
    expect(counting.total('list')).toBe(1);
    expect(counting.total('head')).toBe(0);
  });

  it('stops listing once it has cost what a HEAD each would, and HEADs the keys it did not reach', async () => {
    const { keys, counting } = await folderOf(2500);
    // Two keys 2,400 objects apart: a listing of the range would take 3 pages, HEADs 2 requests.
    const found = await inspectObjects(counting, [
      { key: keys[0]!, size: 1 },
      { key: keys[2400]!, size: 1 },
    ]);
    expect([...found.keys()].sort()).toEqual([keys[0], keys[2400]]);
    expect(counting.total('head')).toBe(1);
  });

  it('leaves out missing keys without a HEAD when the listing went past them; HEADs keys outside any folder', async () => {
    const { memory, keys, counting } = await folderOf(10);
    await memory.put('loose.txt', bodyFromBuffer('y'));
    await memory.put('laptop/20260102_000000/ü 😀.txt', bodyFromBuffer('z'));
    const found = await inspectObjects(counting, [
      { key: keys[3]!, size: 1 },
      { key: 'laptop/20260101_000000/f00003-gone', size: 1 },
      { key: 'loose.txt', size: 1 },
      { key: 'laptop/20260102_000000/ü 😀.txt', size: 1 },
      { key: 'elsewhere.txt', size: 1 },
    ]);
    expect([...found.keys()].sort()).toEqual([
      'laptop/20260101_000000/f00003',
      'laptop/20260102_000000/ü 😀.txt',
      'loose.txt',
    ]);
    expect(counting.total('head')).toBe(2); // loose.txt and elsewhere.txt
  });
});

describe('findArchived', () => {
  it("gives each archived object's restore state, and skips hot ones", async () => {
    const { memory, keys } = await folderOf(5);
    memory.archive(keys[1]!, 'GLACIER');
    memory.archive(keys[2]!, 'DEEP_ARCHIVE');
    await memory.requestRestore(keys[2]!, { tier: 'Bulk', days: 1 });
    const archived = await findArchived(
      memory,
      keys.map((key) => ({ key, size: 1 })),
    );
    expect(archived).toEqual([
      { key: keys[1], size: 1, storageClass: 'GLACIER', restore: 'none' },
      { key: keys[2], size: 1, storageClass: 'DEEP_ARCHIVE', restore: 'in-progress' },
    ]);
  });
});
