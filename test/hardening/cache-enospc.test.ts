import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RenderCache } from '../../lib/render-cache.ts';
import { addTextChunks } from '../../pipeline/png/text-chunks.ts';

// A full disk: writeFile writes part of the file, then fails with ENOSPC, as it does when the disk fills mid-write.
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof fs>();
  return {
    ...real,
    writeFile: async (path: string, data: Uint8Array) => {
      await real.writeFile(path, data.subarray(0, data.length >> 1));
      throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'lob-cache-enospc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The smallest valid PNG (1×1 grey), carrying its key as the renderer's do.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABc3UWCgAAAABJRU5ErkJggg==',
  'base64',
);

describe('render cache on a full disk', () => {
  it('skips the write, removes its partial temp file and reports ENOSPC once', async () => {
    const messages: string[] = [];
    const cache = new RenderCache({ dir, maxBytes: 1_000_000, onFault: (m) => messages.push(m) });
    for (const key of ['a', 'b', 'c']) {
      await cache.put(key, addTextChunks(PNG, [['lob-key', key]]));
      expect(await cache.get(key)).toBeNull();
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/cannot write .*\(ENOSPC\); serving renders without caching them/);
  });
});
