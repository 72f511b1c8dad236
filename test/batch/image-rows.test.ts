import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchResult, parseManifest, runBatch } from '../../lib/batch/index.ts';
import { Renderer } from '../../pipeline/renderer/renderer.ts';
import { TINY_SD15 } from '../pipeline/helpers.ts';

// Image rows: each picture goes through find (as `lob find` would) and the found key is rendered like any row.
// The tiny SD-1.5-shaped model has a VAE encoder, which find needs.
const tmp = mkdtempSync(join(tmpdir(), 'lob-batch-images-'));
let pool: Renderer;

beforeAll(async () => {
  pool = await Renderer.create({ modelDir: TINY_SD15, workers: 1, threadsPerWorker: 2 });
  const disc =
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="24" fill="#2040e0"/></svg>';
  writeFileSync(join(tmp, 'disc.png'), await sharp(Buffer.from(disc)).png().toBuffer());
  writeFileSync(join(tmp, 'notes.txt'), 'not a picture');
});
afterAll(async () => {
  await pool.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('image rows', () => {
  it('find the picture’s key, render it, and record how close it is; a non-picture fails as bad input', async () => {
    const manifest = [{ image: 'disc.png', name: 'disc' }, { image: 'notes.txt' }].map((r) => JSON.stringify(r));
    const results: BatchResult[] = [];
    const out = join(tmp, 'out');
    for await (const r of runBatch(parseManifest(manifest.join('\n'), 'jsonl'), { out, renderer: pool, baseDir: tmp }))
      results.push(r);
    const [disc, notes] = results.map((r) => r.entry);
    expect(disc.status).toBe('ok');
    expect(disc.key).toMatch(/^sd768-64x64-fine-1\./);
    // the tiny model draws noise, so only that a similarity is recorded (find's quality is tested on the default model)
    expect(disc.found?.psnr).toBeGreaterThan(0);
    expect(disc.found?.ssim).toBeLessThanOrEqual(1);
    const rendered = await pool.render(disc.key as string);
    expect(readFileSync(join(out, disc.image as string)).equals(rendered.png)).toBe(true);
    expect(notes).toMatchObject({ status: 'failed', error_kind: 'input' });
    expect(notes.error).toContain('not a PNG, JPEG, WebP or SVG');
  });
});
