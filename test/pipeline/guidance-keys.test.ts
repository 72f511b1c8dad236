import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { encodeGen5 } from '../../gen5/encode.ts';
import { guidedKey, parseKey } from '../../keyspace/index.ts';
import { buildGen5Input, readProvenance } from '../../lib/provenance.ts';
import { RenderInputError } from '../../pipeline/errors.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { readTextChunks } from '../../pipeline/png/text-chunks.ts';
import { decodeModelKey } from '../../pipeline/render/keys.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { searchKey } from '../../pipeline/render/search.ts';
import { Renderer } from '../../pipeline/renderer/renderer.ts';
import { TINY_EMOJI } from './helpers.ts';

// Keys that carry their guidance scale (the profile's -cfg variant), on the tiny emoji-shaped model (scale 3).
let model: Model;
let plain: string;
beforeAll(async () => {
  model = await loadModel(TINY_EMOJI, { intraOpNumThreads: 1 });
  plain = (await searchKey(model, 'a red heart', { seed: 5 })).key;
});
afterAll(async () => {
  await model?.release();
});

const at = (key: string, scale: number) => guidedKey(parseKey(key, model.registry), scale, model.registry);

describe('guidance keys', () => {
  it('search --guidance keeps the scale in the key: the plain key with one character naming it', async () => {
    const searched = await searchKey(model, 'a red heart', { seed: 5, guidance: 7.5 });
    expect(searched.key).toBe(at(plain, 7.5));
    expect(searched.key.startsWith('tinyemoji-cfg-1.')).toBe(true);
    expect(decodeModelKey(model, searched.key).guidance).toBe(7.5);
    const negative = await searchKey(model, 'a red heart', { seed: 5, guidance: 2, negative: 'blue' });
    expect(negative.key.startsWith('tinyemoji-neg-cfg-1.')).toBe(true);
    await expect(searchKey(model, 'x', { seed: 1, guidance: 7.3 })).rejects.toThrow(
      /guidance 7\.3 is not one a key can carry \(1, 1\.25, 1\.5, …, 16\.75; 1 runs without guidance/,
    );
  });

  it("renders at the key's scale: unlike the plain key at another scale, like it at the model's, the same twice", async () => {
    const base = await renderKey(model, plain);
    const strong = await renderKey(model, at(plain, 9));
    expect(strong.guidance).toBe(9);
    expect(strong.profileId).toBe('tinyemoji-cfg-1');
    expect(strong.finalLatent).not.toEqual(base.finalLatent);
    // the same recipe as the plain key rendered at 9: the key decodes to the same values
    const asked = await renderKey(model, plain, { guidanceScale: 9 });
    expect(strong.finalLatent).toEqual(asked.finalLatent);
    expect((await renderKey(model, at(plain, 9))).pngSha256).toBe(strong.pngSha256);
    // at the model's own scale the pixels are the plain key's (the PNG text names another key)
    const same = await renderKey(model, at(plain, model.guidanceScale));
    expect(same.finalLatent).toEqual(base.finalLatent);
    // 1 runs the conditional branch alone: one UNet call per step instead of two
    const unguided = await renderKey(model, at(plain, 1));
    expect(unguided.timings.unetCalls).toBe(unguided.settings.timesteps.length);
  });

  it("reports the scale in the PNG's parameters and the gen5 provenance, and refuses another scale for the key", async () => {
    const key = at(plain, 4.5);
    const r = await renderKey(model, key, { guidanceScale: 4.5 });
    const parameters = readTextChunks(r.png).get('parameters');
    expect(parameters).toMatch(/CFG scale: 4\.5, .*Key profile: tinyemoji-cfg-1/);
    const gen5 = await decodeGen5(
      await encodeGen5(buildGen5Input(r, { environment: [], date: '2026-11-22T00:00:00+00:00' })),
    );
    const provenance = readProvenance(gen5);
    expect(provenance?.key.text).toBe(key);
    expect(provenance?.pipeline.guidance).toBe(4.5);
    await expect(renderKey(model, key, { guidanceScale: 3 })).rejects.toThrow(RenderInputError);
    await expect(renderKey(model, key, { guidanceScale: 3 })).rejects.toThrow(
      /carries guidance 4\.5; it cannot be rendered at 3/,
    );
  });

  it('the render pool searches and renders guidance keys as the model in this thread does', async () => {
    const pool = await Renderer.create({ modelDir: TINY_EMOJI, workers: 1, threadsPerWorker: 1 });
    try {
      const found = await pool.search('a red heart', { seed: 5, guidance: 7.5 });
      expect(found.key).toBe(at(plain, 7.5));
      expect(pool.model.profile.id).toBe('tinyemoji');
      const r = await pool.render(found.key);
      expect(r.guidance).toBe(7.5);
      expect(r.pngSha256).toBe((await renderKey(model, found.key)).pngSha256);
    } finally {
      await pool.close();
    }
  });
});
