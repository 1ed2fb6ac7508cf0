import { createCipheriv } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Deterministic pseudo-random bytes (AES-CTR of zeros): the same data set on every machine. */
export function bytesFor(seed: number, size: number): Buffer {
  const key = Buffer.alloc(32);
  key.writeUInt32BE(seed, 0);
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

/** A tiny seeded PRNG (mulberry32) for sizes and layout. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DataSet {
  name: string;
  root: string;
  files: string[];
  bytes: number;
}

/**
 * D1: 5,000 files, sizes log-normally distributed between 1 KiB and 8 MiB (about 1 GiB).
 * D2: 100,000 files of 1–4 KiB in 1,000 folders.
 * Built once into `base` and reused while its marker file is there.
 */
export async function buildDataSet(name: 'D1' | 'D2', base: string): Promise<DataSet> {
  const root = join(base, name);
  const next = random(name === 'D1' ? 1 : 2);
  const specs: Array<{ path: string; size: number }> = [];
  if (name === 'D1') {
    for (let i = 0; i < 5000; i++) {
      // Log-normal around 32 KiB (sigma 2), clipped to 1 KiB..8 MiB: about 1 GiB in all, many
      // small files and a tail of large ones, as in a home folder.
      const gaussian = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      const size = Math.round(
        Math.min(8 * 1024 * 1024, Math.max(1024, Math.exp(Math.log(32 * 1024) + 2 * gaussian))),
      );
      specs.push({
        path: join(`dir${String(i % 50).padStart(2, '0')}`, `file${String(i).padStart(5, '0')}.bin`),
        size,
      });
    }
  } else {
    for (let i = 0; i < 100_000; i++) {
      const size = 1024 + Math.floor(next() * 3 * 1024);
      specs.push({
        path: join(`dir${String(i % 1000).padStart(4, '0')}`, `f${String(i).padStart(6, '0')}.dat`),
        size,
      });
    }
  }
  const marker = `${root}.complete`;
  if (!existsSync(marker)) {
    await rm(root, { recursive: true, force: true });
    const dirs = new Set(specs.map((spec) => join(root, spec.path, '..')));
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    for (let i = 0; i < specs.length; i += 64) {
      await Promise.all(
        specs
          .slice(i, i + 64)
          .map((spec, j) => writeFile(join(root, spec.path), bytesFor(i + j + 1, spec.size))),
      );
    }
    await writeFile(marker, '');
  }
  return {
    name,
    root,
    files: specs.map((spec) => spec.path),
    bytes: specs.reduce((sum, spec) => sum + spec.size, 0),
  };
}
