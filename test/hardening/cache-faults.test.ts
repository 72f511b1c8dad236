import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Library, optionsFromEnv } from '../../lib/library.ts';
import { keyHash, RenderCache } from '../../lib/render-cache.ts';
import { TINY_EMOJI } from '../pipeline/helpers.ts';

// The render cache is an optimisation, never a failure: faults of the disk under it cost caching, not renders.
// (A full disk is simulated in cache-enospc.test.ts, which has to replace writeFile.)
const dir = mkdtempSync(join(tmpdir(), 'lob-cache-faults-'));
const library = new Library({
  ...optionsFromEnv({} as NodeJS.ProcessEnv),
  modelDir: TINY_EMOJI,
  workers: 1,
  cacheDir: join(dir, 'cache'),
});
let keys: string[];
let pngs: Buffer[];

beforeAll(async () => {
  keys = [await library.random(), await library.random()];
  pngs = await Promise.all(keys.map((k) => library.render(k)));
});
afterAll(async () => {
  await (await library.renderer()).close();
  rmSync(dir, { recursive: true, force: true });
});

function faultLog(): { messages: string[]; onFault: (m: string) => void } {
  const messages: string[] = [];
  return { messages, onFault: (m) => messages.push(m) };
}

describe('render cache faults', () => {
  it('serves renders when the cache folder cannot be created (ENOTDIR), logging the fault once', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const broken = new Library({ ...library.options, cacheDir: join(blocker, 'renders') });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      for (let i = 0; i < 3; i++) expect((await broken.render(keys[0])).equals(pngs[0])).toBe(true);
      const faults = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('render cache'));
      expect(faults).toHaveLength(1);
      expect(faults[0]).toMatch(/ENOTDIR/);
    } finally {
      warn.mockRestore();
      await (await broken.renderer()).close();
    }
  });

  it('misses and skips writing when a directory stands where a cache file should be, leaving no temp files', async () => {
    const cacheDir = join(dir, 'dir-in-the-way');
    mkdirSync(join(cacheDir, `${keyHash(keys[0])}.png`), { recursive: true });
    const log = faultLog();
    const cache = new RenderCache({ dir: cacheDir, maxBytes: 1_000_000, ...log });
    for (let i = 0; i < 3; i++) {
      expect(await cache.get(keys[0])).toBeNull();
      await cache.put(keys[0], pngs[0]);
    }
    expect(readdirSync(cacheDir)).toEqual([`${keyHash(keys[0])}.png`]);
    expect(log.messages.filter((m) => m.includes('cannot write'))).toHaveLength(1);
    expect(log.messages.filter((m) => m.includes('cannot read'))).toHaveLength(1);
  });

  it('never serves a cache file with a flipped byte or another key’s PNG: it is rendered again', async () => {
    const cacheDir = join(dir, 'tampered');
    const cache = new RenderCache({ dir: cacheDir, maxBytes: 1_000_000 });
    await cache.put(keys[0], pngs[0]);
    const file = join(cacheDir, `${keyHash(keys[0])}.png`);

    const flipped = Buffer.from(pngs[0]);
    flipped[Math.floor(flipped.length / 2)] ^= 0x01;
    writeFileSync(file, flipped);
    expect(await cache.get(keys[0])).toBeNull();
    expect(readdirSync(cacheDir)).toEqual([]);

    await cache.put(keys[0], pngs[0]);
    writeFileSync(file, pngs[1]); // a complete, valid PNG, but of the other key
    expect(await cache.get(keys[0])).toBeNull();

    // Through the library: the tampered file is replaced by a fresh render, byte-identical to the first.
    const fresh = new Library({ ...library.options, cacheDir: join(dir, 'tampered-library') });
    try {
      await fresh.render(keys[0]);
      const [sub] = readdirSync(join(dir, 'tampered-library'));
      const cached = join(dir, 'tampered-library', sub, `${keyHash(keys[0])}.png`);
      writeFileSync(cached, pngs[1]);
      expect((await fresh.render(keys[0])).equals(pngs[0])).toBe(true);
      expect(readFileSync(cached).equals(pngs[0])).toBe(true);
    } finally {
      await (await fresh.renderer()).close();
    }
  });
});
