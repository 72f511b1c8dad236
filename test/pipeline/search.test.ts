import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderInputError } from '../../pipeline/errors.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import { encodeText } from '../../pipeline/model/text-encoder.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { decodeModelKey } from '../../pipeline/render/keys.ts';
import { searchKey } from '../../pipeline/render/search.ts';
import { TINY_SD15 } from './helpers.ts';

let model: Model;
beforeAll(async () => {
  model = await loadModel(TINY_SD15, { intraOpNumThreads: 1 });
});
afterAll(async () => {
  await model.release();
});

describe('prompt search', () => {
  it('is reproducible with a seed; another seed ("search again") gives another latent, same prompt embedding', async () => {
    const a = await searchKey(model, 'the red cat', { seed: 42 });
    const b = await searchKey(model, 'the red cat', { seed: 42 });
    const c = await searchKey(model, 'the red cat', { seed: 43 });
    expect(a.key).toBe(b.key);
    expect(a.seed).toBe('42');
    expect(c.key).not.toBe(a.key);
    const da = decodeModelKey(model, a.key);
    const dc = decodeModelKey(model, c.key);
    expect(Buffer.from(da.embedding.buffer).equals(Buffer.from(dc.embedding.buffer))).toBe(true);
    expect(Buffer.from(da.latent.buffer).equals(Buffer.from(dc.latent.buffer))).toBe(false);
  });

  it("puts the prompt's text states (to the coding's precision) and the default steps into the key", async () => {
    const r = await searchKey(model, 'a happy dog', { seed: 1 });
    const d = decodeModelKey(model, r.key);
    const { hidden } = await encodeText(model, 'a happy dog');
    // 10 mantissa bits above 2^-11; tinier magnitudes are stored as ±2^-11
    const off = Array.from(hidden).filter(
      (h, i) => Math.abs(d.embedding[i] - h) > Math.max(Math.abs(h) * 2 ** -10, 2 ** -11),
    );
    expect(off).toEqual([]);
    expect(d.steps).toBe(20); // SD default when model_index.json has no lob.default_steps
    expect(r.steps).toBe(20);
    // a Gaussian latent: quantile codes of standard-normal draws have mean ≈ 0 and variance ≈ 1
    const mean = d.latent.reduce((s, v) => s + v, 0) / d.latent.length;
    const variance = d.latent.reduce((s, v) => s + (v - mean) ** 2, 0) / d.latent.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(variance).toBeGreaterThan(0.8);
    expect(variance).toBeLessThan(1.2);
  });

  it('draws a fresh seed when none is given and reports it so the key can be found again', async () => {
    const a = await searchKey(model, 'the sun');
    const b = await searchKey(model, 'the sun');
    expect(a.seed).not.toBe(b.seed);
    expect((await searchKey(model, 'the sun', { seed: BigInt(a.seed) })).key).toBe(a.key);
  });

  it('refuses bestOf without an image encoder, and out-of-range bestOf', async () => {
    await expect(searchKey(model, 'the sun', { seed: 1, bestOf: 2 })).rejects.toThrow(/image_encoder/);
    await expect(searchKey(model, 'the sun', { bestOf: 0 })).rejects.toBeInstanceOf(RenderInputError);
  });
});
