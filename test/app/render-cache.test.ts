import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCompletePng, keyHash, RenderCache } from '../../lib/render-cache.ts';

// Random pixels do not compress, so each PNG is a little over 3 × 32 × 32 bytes.
async function noisePng(): Promise<Buffer> {
  return sharp(randomBytes(32 * 32 * 3), { raw: { width: 32, height: 32, channels: 3 } })
    .png()
    .toBuffer();
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'lob-cache-'));
}

describe('RenderCache', () => {
  let pngs: Buffer[];
  beforeAll(async () => {
    pngs = await Promise.all(Array.from({ length: 6 }, noisePng));
  });

  it('returns what was put, by key, and misses unknown keys', async () => {
    const cache = new RenderCache({ dir: freshDir(), maxBytes: 1_000_000 });
    await cache.put('key-a', pngs[0]);
    expect(await cache.get('key-a')).toEqual(pngs[0]);
    expect(await cache.get('key-b')).toBeNull();
    expect(cache.stats).toMatchObject({ entries: 1, hits: 1, misses: 1 });
  });

  it('names files by the SHA-256 of the key, so 190,000-character keys work', async () => {
    const dir = freshDir();
    const cache = new RenderCache({ dir, maxBytes: 1_000_000 });
    const long = 'x'.repeat(190_000);
    await cache.put(long, pngs[0]);
    expect(readdirSync(dir)).toEqual([`${keyHash(long)}.png`]);
    expect(await cache.get(long)).toEqual(pngs[0]);
  });

  it('evicts the least recently used entry when over budget', async () => {
    const budget = pngs[0].length + pngs[1].length + pngs[2].length + 10;
    const cache = new RenderCache({ dir: freshDir(), maxBytes: budget });
    await cache.put('a', pngs[0]);
    await cache.put('b', pngs[1]);
    await cache.put('c', pngs[2]);
    await cache.get('a'); // a is now the most recently used; b is the oldest
    await cache.put('d', pngs[3]);
    expect(cache.has('b')).toBe(false);
    expect(await cache.get('a')).toEqual(pngs[0]);
    expect(await cache.get('c')).toEqual(pngs[2]);
    expect(await cache.get('d')).toEqual(pngs[3]);
    expect(cache.stats.bytes).toBeLessThanOrEqual(budget);
  });

  it('keeps the disk within budget under many concurrent puts and gets', async () => {
    const dir = freshDir();
    const budget = pngs[0].length * 3;
    const cache = new RenderCache({ dir, maxBytes: budget });
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        await cache.put(`k${i % 20}`, pngs[i % pngs.length]);
        const got = await cache.get(`k${(i * 7) % 20}`);
        if (got) expect(isCompletePng(got)).toBe(true);
      }),
    );
    const onDisk = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(onDisk).toBe(cache.stats.bytes);
    expect(onDisk).toBeLessThanOrEqual(budget + Math.max(...pngs.map((p) => p.length)));
    expect(readdirSync(dir).every((name) => name.endsWith('.png'))).toBe(true);
  });

  it('never serves a truncated file: it is deleted and reported as a miss', async () => {
    const dir = freshDir();
    const cache = new RenderCache({ dir, maxBytes: 1_000_000 });
    await cache.put('k', pngs[0]);
    writeFileSync(join(dir, `${keyHash('k')}.png`), pngs[0].subarray(0, 100));
    expect(await cache.get('k')).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to store something that is not a complete PNG', async () => {
    const cache = new RenderCache({ dir: freshDir(), maxBytes: 1_000_000 });
    await expect(cache.put('k', pngs[0].subarray(0, 50))).rejects.toThrow('complete PNG');
  });

  it('reopens an existing folder, oldest files first in line for eviction, stale temp files removed', async () => {
    const dir = freshDir();
    const first = new RenderCache({ dir, maxBytes: 1_000_000 });
    await first.put('old', pngs[0]);
    await first.put('new', pngs[1]);
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(join(dir, `${keyHash('old')}.png`), past, past);
    writeFileSync(join(dir, `${keyHash('x')}.1.abc.tmp`), 'partial');
    utimesSync(join(dir, `${keyHash('x')}.1.abc.tmp`), past, past);

    const reopened = new RenderCache({ dir, maxBytes: pngs[1].length + pngs[2].length });
    await reopened.put('third', pngs[2]);
    expect(reopened.has('old')).toBe(false);
    expect(await reopened.get('new')).toEqual(pngs[1]);
    expect(readFileSync(join(dir, `${keyHash('third')}.png`))).toEqual(pngs[2]);
    expect(readdirSync(dir).some((name) => name.endsWith('.tmp'))).toBe(false);
  });

  it('rejects a budget that is not a non-negative integer', () => {
    expect(() => new RenderCache({ dir: freshDir(), maxBytes: -1 })).toThrow('maxBytes');
  });
});
