import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { readPngKey } from '../../pipeline/png/render-png.ts';
import { defaultModelDir } from '../../pipeline/project-root.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { searchKey } from '../../pipeline/render/search.ts';
import { EMOJI_CONTRACT_SHAPES } from './helpers.ts';

// The embedded default model (models/emoji) through the same code as SD exports.
let model: Model;
let key: string;
beforeAll(async () => {
  model = await loadModel(defaultModelDir(), { intraOpNumThreads: 1 });
  key = (await searchKey(model, 'red heart', { seed: 1 })).key;
});
afterAll(async () => {
  await model.release();
});

describe('the default model (models/emoji)', () => {
  it('has the contract interface and its own keyspace profile', () => {
    expect(model.shapes).toMatchObject(EMOJI_CONTRACT_SHAPES);
    expect(model.shapes.textEmbedsOutput).toBe('text_embeds');
    expect(model.folder.onnx.imageEncoder).not.toBeNull();
    expect(model.profile.id).toBe('emoji');
    expect(model.folder.latentScaling).toBe(1);
    expect(model.profile.steps.values).toContain(model.defaultSteps);
  });

  it('renders a searched key to a 64×64 PNG that carries the whole key', async () => {
    const r = await renderKey(model, key);
    const meta = await sharp(r.png).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);
    expect(readPngKey(r.png)).toEqual({ kind: 'key', key });
    expect(r.steps).toBe(model.defaultSteps);
  });

  it('gives the same bytes with fresh sessions and another thread count', async () => {
    const first = await renderKey(model, key);
    const two = await loadModel(defaultModelDir(), { intraOpNumThreads: 2 });
    try {
      const r = await renderKey(two, key);
      expect(r.pngSha256).toBe(first.pngSha256);
      expect(Buffer.from(r.finalLatent.buffer).equals(Buffer.from(first.finalLatent.buffer))).toBe(true);
    } finally {
      await two.release();
    }
  });

  it('guidance matters: the model scale and scale 1 give different images', async () => {
    const guided = await sharp((await renderKey(model, key)).png)
      .raw()
      .toBuffer();
    const plain = await sharp((await renderKey(model, key, { guidanceScale: 1 })).png)
      .raw()
      .toBuffer();
    let changed = 0;
    for (let i = 0; i < guided.length; i++) if (Math.abs(guided[i] - plain[i]) > 2) changed++;
    expect(changed / guided.length).toBeGreaterThan(0.05);
  });

  it('best-of-4 keeps the highest-scoring candidate', async () => {
    const r = await searchKey(model, 'yellow smiling face', { seed: 7, bestOf: 4 });
    const scores = r.candidates.map((c) => c.score as number);
    expect(r.score).toBe(Math.max(...scores));
  });
});
