import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCompletePng, keyHash, RenderCache } from '../../lib/render-cache.ts';
import { addTextChunks } from '../../pipeline/png/text-chunks.ts';

// Random pixels do not compress, so each PNG is a little over 3 × 32 × 32 bytes.
async function noisePng(): Promise<Buffer> {
  return sharp(randomBytes(32 * 32 * 3), { raw: { width: 32, height: 32, channels: 3 } })
    .png()
    .toBuffer();
}

/** A PNG as the renderer writes it: carrying its key in the lob-key chunk (the cache checks that it does). */
function keyed(index: number, key: string): Buffer {
  return addTextChunks(pngs[index], [['lob-key', key]]);
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'lob-cache-'));
}

let pngs: Buffer[];

describe('RenderCache', () => {
  beforeAll(async () => {
    pngs = await Promise.all(Array.from({ length: 6 }, noisePng));
  });

  it('returns what was put, by key, and misses unknown keys', async () => {
    const cache = new RenderCache({ dir: freshDir(), maxBytes: 1_000_000 });
    await cache.put('key-a', keyed(0, 'key-a'));
    expect(await cache.get('key-a')).toEqual(keyed(0, 'key-a'));
    expect(await cache.get('key-b')).toBeNull();
    expect(cache.stats).toMatchObject({ entries: 1, hits: 1, misses: 1 });
  });

  it('names files by the SHA-256 of the key, so 190,000-character keys work', async () => {
    const dir = freshDir();
    const cache = new RenderCache({ dir, maxBytes: 1_000_000 });
    const long = 'x'.repeat(190_000);
    await cache.put(long, keyed(0, long));
    expect(readdirSync(dir)).toEqual([`${keyHash(long)}.png`]);
    expect(await cache.get(long)).toEqual(keyed(0, long));
  });

  it('evicts the least recently used entry when over budget', async () => {
    const budget = keyed(0, 'a').length + keyed(1, 'b').length + keyed(2, 'c').length + 10;
    const cache = new RenderCache({ dir: freshDir(), maxBytes: budget });
    await cache.put('a', keyed(0, 'a'));
    await cache.put('b', keyed(1, 'b'));
    await cache.put('c', keyed(2, 'c'));
    await cache.get('a'); // a is now the most recently used; b is the oldest
    await cache.put('d', keyed(3, 'd'));
    expect(cache.has('b')).toBe(false);
    expect(await cache.get('a')).toEqual(keyed(0, 'a'));
    expect(await cache.get('c')).toEqual(keyed(2, 'c'));
    expect(await cache.get('d')).toEqual(keyed(3, 'd'));
    expect(cache.stats.bytes).toBeLessThanOrEqual(budget);
  });

  it('keeps the disk within budget under many concurrent puts and gets', async () => {
    const dir = freshDir();
    const budget = pngs[0].length * 3;
    const cache = new RenderCache({ dir, maxBytes: budget });
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        await cache.put(`k${i % 20}`, keyed(i % pngs.length, `k${i % 20}`));
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
    await cache.put('k', keyed(0, 'k'));
    writeFileSync(join(dir, `${keyHash('k')}.png`), keyed(0, 'k').subarray(0, 100));
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
    await first.put('old', keyed(0, 'old'));
    await first.put('new', keyed(1, 'new'));
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(join(dir, `${keyHash('old')}.png`), past, past);
    writeFileSync(join(dir, `${keyHash('x')}.1.abc.tmp`), 'partial');
    utimesSync(join(dir, `${keyHash('x')}.1.abc.tmp`), past, past);

    const reopened = new RenderCache({ dir, maxBytes: keyed(1, 'new').length + keyed(2, 'third').length });
    await reopened.put('third', keyed(2, 'third'));
    expect(reopened.has('old')).toBe(false);
    expect(await reopened.get('new')).toEqual(keyed(1, 'new'));
    expect(readFileSync(join(dir, `${keyHash('third')}.png`))).toEqual(keyed(2, 'third'));
    expect(readdirSync(dir).some((name) => name.endsWith('.tmp'))).toBe(false);
  });

  it('rejects a budget that is not a non-negative integer', () => {
    expect(() => new RenderCache({ dir: freshDir(), maxBytes: -1 })).toThrow('maxBytes');
  });
});
