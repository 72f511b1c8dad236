import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  encodePng,
  MAX_EMBEDDED_KEY_CHARS,
  type PngMetadata,
  readPngKey,
  sha256Hex,
} from '../../pipeline/png/render-png.ts';
import { addTextChunks, crc32, PngFormatError, readTextChunks } from '../../pipeline/png/text-chunks.ts';

const rgb = Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 37) % 256);
const meta = (key: string, prompt?: string): PngMetadata => ({
  key,
  profileId: 'emoji-1',
  prompt,
  steps: 12,
  sampler: 'DDIMScheduler',
  guidance: 3,
  width: 8,
  height: 8,
  modelName: 'emoji-ldm',
  modelHash: 'ab'.repeat(32),
});

/** Text chunks as Pillow (an independent PNG reader) sees them. */
function pillowText(png: Buffer): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'lob-png-'));
  try {
    const file = join(dir, 'x.png');
    writeFileSync(file, png);
    const r = spawnSync(
      '/usr/bin/python3',
      ['-c', 'import sys, json\nfrom PIL import Image\nprint(json.dumps(Image.open(sys.argv[1]).text))', file],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('PNG text chunks', () => {
  it('CRC-32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('writes A1111 parameters and the key; Pillow reads them back, tEXt and UTF-8 iTXt alike', async () => {
    const key = 'emoji-1.AbC-_9';
    const png = await encodePng(rgb, 8, 8, meta(key, 'a smiling cat 🐱'));
    const text = pillowText(png);
    expect(text['lob-key']).toBe(key);
    expect(text.parameters.split('\n')[0]).toBe('a smiling cat 🐱');
    expect(text.parameters).toContain('Steps: 12, Sampler: DDIMScheduler, CFG scale: 3, Size: 8x8');
    expect(text.parameters).toContain(`Key hash: ${sha256Hex(key)}`);
    expect(readPngKey(png)).toEqual({ kind: 'key', key });
    // the pixels are untouched by the inserted chunks
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(Buffer.from(data).equals(Buffer.from(rgb))).toBe(true);
  });

  it('stores an over-long key as its profile and SHA-256', async () => {
    const key = `emoji-1.${'A'.repeat(MAX_EMBEDDED_KEY_CHARS)}`;
    const png = await encodePng(rgb, 8, 8, meta(key));
    expect(readPngKey(png)).toEqual({ kind: 'ref', profileId: 'emoji-1', sha256: sha256Hex(key) });
    expect(readTextChunks(png).get('parameters')?.startsWith('Steps: 12')).toBe(true);
  });

  it('encodes the same pixels to the same bytes', async () => {
    const a = await encodePng(rgb, 8, 8, meta('k'));
    const b = await encodePng(Uint8Array.from(rgb), 8, 8, meta('k'));
    expect(a.equals(b)).toBe(true);
  });

  it('returns null without a key and rejects damaged files', async () => {
    const bare = await sharp(Buffer.from(rgb), { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toBuffer();
    expect(readPngKey(bare)).toBeNull();
    const withKey = addTextChunks(bare, [['lob-key', 'k']]);
    const damaged = Buffer.from(withKey);
    damaged[40] ^= 0xff;
    expect(() => readPngKey(damaged)).toThrow(PngFormatError);
    expect(() => readPngKey(Buffer.from('GIF89a'))).toThrow(/signature/);
  });
});
