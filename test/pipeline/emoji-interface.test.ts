import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageEmbeds } from '../../pipeline/model/image-encoder.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { readPngKey } from '../../pipeline/png/render-png.ts';
import { decodeModelKey } from '../../pipeline/render/keys.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { cosine, searchKey } from '../../pipeline/render/search.ts';
import { EMOJI_CONTRACT_SHAPES, TINY_EMOJI } from './helpers.ts';

// The default model's interface (docs/contracts.md) on random weights: keyspace.json profile, v-prediction DDIM,
// an image encoder, keys short enough to travel inside the PNG.
let model: Model;
beforeAll(async () => {
  model = await loadModel(TINY_EMOJI, { intraOpNumThreads: 1 });
});
afterAll(async () => {
  await model.release();
});

describe('a model with the default model contract', () => {
  it("takes its profile from keyspace.json and its defaults from model_index.json's lob block", () => {
    expect(model.profile.id).toBe('tinyemoji');
    expect(model.shapes).toMatchObject(EMOJI_CONTRACT_SHAPES);
    expect(model).toMatchObject({
      name: 'tiny-emoji',
      version: '0.0.1',
      defaultSteps: 8,
      guidanceScale: 3,
      schedulerName: 'DDIMScheduler',
    });
    expect(model.folder.latentScaling).toBe(1);
  });

  it('embeds the whole key in the PNG; the key read back renders the same bytes', async () => {
    const { key } = await searchKey(model, 'happy red cat', { seed: 1 });
    const r = await renderKey(model, key);
    const found = readPngKey(r.png);
    expect(found).toEqual({ kind: 'key', key });
    expect((await renderKey(model, (found as { key: string }).key)).pngSha256).toBe(r.pngSha256);
    expect(r.settings.timesteps).toEqual([999, 874, 749, 624, 499, 374, 249, 124]);
    // a known prompt only adds a line to the parameters text: same pixels, same key entry
    const withPrompt = await renderKey(model, key, { prompt: 'happy red cat' });
    expect(readPngKey(withPrompt.png)).toEqual(found);
    const sharp = (await import('sharp')).default;
    const px = async (png: Buffer) => (await sharp(png).raw().toBuffer()).toString('hex');
    expect(await px(withPrompt.png)).toBe(await px(r.png));
  });

  it('best-of-N keeps the candidate whose image the image encoder finds closest to the prompt', async () => {
    const a = await searchKey(model, 'happy red cat', { seed: 3, bestOf: 4 });
    const b = await searchKey(model, 'happy red cat', { seed: 3, bestOf: 4 });
    expect(a.key).toBe(b.key);
    expect(a.candidates).toHaveLength(4);
    const scores = a.candidates.map((c) => c.score as number);
    expect(a.score).toBe(Math.max(...scores));
    expect(a.key).toBe(a.candidates[scores.indexOf(Math.max(...scores))].key);
    // the first candidate is what a plain search with the same seed returns
    expect(a.candidates[0].key).toBe((await searchKey(model, 'happy red cat', { seed: 3 })).key);
    // the score is the cosine of the rendered image's embedding with the prompt's text_embeds
    const best = await renderKey(model, a.key);
    const { data, info } = await (await import('sharp')).default(best.png).raw().toBuffer({ resolveWithObject: true });
    const img = await imageEmbeds(model, new Uint8Array(data), info.height, info.width);
    const text = (await import('../../pipeline/model/text-encoder.ts')).encodeText(model, 'happy red cat');
    expect(cosine(img, (await text).textEmbeds as Float32Array)).toBeCloseTo(a.score as number, 5);
  });

  it('decodes empirical-quantile embeddings close to the prompt states', async () => {
    const { key } = await searchKey(model, 'blue star', { seed: 2 });
    const d = decodeModelKey(model, key);
    expect(d.steps).toBe(8);
    expect(d.embedding).toHaveLength(16 * 64);
  });
});
