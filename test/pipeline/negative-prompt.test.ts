import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { encodeGen5 } from '../../gen5/encode.ts';
import { buildGen5Input, readProvenance } from '../../lib/provenance.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { readPngKey } from '../../pipeline/png/render-png.ts';
import { defaultModelDir } from '../../pipeline/project-root.ts';
import { decodeModelKey, encodeModelKey } from '../../pipeline/render/keys.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { searchKey } from '../../pipeline/render/search.ts';

// Negative prompts on the default model: the key carries the unconditional branch's states (the profile's -neg
// variant), and they push the image away from the negative prompt.
let model: Model;

beforeAll(async () => {
  model = await loadModel(defaultModelDir(), { intraOpNumThreads: 2 });
});
afterAll(async () => {
  await model?.release();
});

/** Mean over pixels of red minus the mean of green and blue (0..255 scale). */
function redness(rgbPng: { rgb: Uint8Array }): number {
  const { rgb } = rgbPng;
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) sum += rgb[i] - (rgb[i + 1] + rgb[i + 2]) / 2;
  return sum / (rgb.length / 3);
}

async function pixels(png: Buffer): Promise<{ rgb: Uint8Array }> {
  const sharp = (await import('sharp')).default;
  return { rgb: new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer()) };
}

const rgbOf = async (key: string) => pixels((await renderKey(model, key)).png);

describe('negative prompts in keys', () => {
  it('search without a negative prompt (or with an empty one) gives the base key it always gave', async () => {
    const plain = await searchKey(model, 'a red heart', { seed: 4 });
    expect((await searchKey(model, 'a red heart', { seed: 4, negative: '' })).key).toBe(plain.key);
    expect(plain.key.startsWith(`${model.profile.id}-${model.profile.version}.`)).toBe(true);
  });

  it("a negative key carries the negative prompt's text states and the same prompt and noise", async () => {
    // one candidate each: with more, the ranking may keep another draw of the noise with the negative prompt
    const plain = decodeModelKey(model, (await searchKey(model, 'a red heart', { seed: 4, bestOf: 1 })).key);
    const withNeg = await searchKey(model, 'a red heart', { seed: 4, negative: 'red', bestOf: 1 });
    expect(withNeg.key.startsWith(`${model.profile.id}-neg-${model.profile.version}.`)).toBe(true);
    const d = decodeModelKey(model, withNeg.key);
    const again = encodeModelKey(model, { steps: d.steps, embedding: d.embedding, latent: d.latent });
    expect(decodeModelKey(model, again).embedding).toEqual(plain.embedding);
    expect(decodeModelKey(model, again).latent).toEqual(plain.latent);
    expect(d.negative).toHaveLength(model.uncond.length);
  });

  it('an empty-prompt negative renders like no negative at all (it is the default unconditional branch)', async () => {
    const plain = decodeModelKey(model, (await searchKey(model, 'a cat', { seed: 2 })).key);
    const emptyNeg = encodeModelKey(model, { ...plain, negative: model.uncond });
    const a = await renderKey(model, plain.key);
    const b = await renderKey(model, emptyNeg);
    // the negative states are quantised like the embedding, so "the same" is "nearly the same pixels"
    let diff = 0;
    const pa = await pixels(a.png);
    const pb = await pixels(b.png);
    for (let i = 0; i < pa.rgb.length; i++) diff += Math.abs(pa.rgb[i] - pb.rgb[i]);
    expect(diff / pa.rgb.length).toBeLessThan(8);
    expect(a.negativeEmbedding).toBeNull();
    expect(b.negativeEmbedding).not.toBeNull();
  });

  it('"a red heart" with the negative prompt "red" comes out less red on average over six seeds', async () => {
    const seeds = [0, 1, 2, 3, 4, 5];
    let without = 0;
    let withNeg = 0;
    for (const seed of seeds) {
      without += redness(await rgbOf((await searchKey(model, 'a red heart', { seed })).key));
      withNeg += redness(await rgbOf((await searchKey(model, 'a red heart', { seed, negative: 'red' })).key));
    }
    expect(withNeg / seeds.length).toBeLessThan(without / seeds.length - 10);
  });

  it('PNG and gen5 carry the negative key; provenance says the unconditional branch came from it', async () => {
    const key = (await searchKey(model, 'a red heart', { seed: 1, negative: 'red' })).key;
    const result = await renderKey(model, key, { prompt: 'a red heart', negativePrompt: 'red' });
    expect(readPngKey(result.png)).toEqual({ kind: 'key', key });
    const file = await decodeGen5(
      await encodeGen5(buildGen5Input(result, { environment: [], negativePrompt: 'red', prompt: 'a red heart' })),
    );
    const provenance = readProvenance(file);
    expect(provenance?.key.text).toBe(key);
    expect(provenance?.pipeline.unconditional).toBe('key-negative');
    const negative = file.latents.find((l) => l.name === 'negative_embedding');
    expect(negative?.shape).toEqual([1, 1, model.shapes.tokens, model.shapes.hidden]);
  });
});
