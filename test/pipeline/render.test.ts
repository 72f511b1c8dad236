import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyError, randomKey } from '../../keyspace/index.ts';
import { RenderCancelledError } from '../../pipeline/errors.ts';
import { loadModel } from '../../pipeline/model/load.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { readPngKey, sha256Hex } from '../../pipeline/png/render-png.ts';
import { generate, Sampling } from '../../pipeline/render/generate.ts';
import { decodeModelKey } from '../../pipeline/render/keys.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { keyFor, TINY_SD15 } from './helpers.ts';

let model: Model;
let key: string;

beforeAll(async () => {
  model = await loadModel(TINY_SD15, { intraOpNumThreads: 1 });
  key = await keyFor(model, 'the red cat', 7, 4);
});
afterAll(async () => {
  await model.release();
});

async function pixels(png: Buffer): Promise<Buffer> {
  return (await sharp(png).raw().toBuffer({ resolveWithObject: true })).data;
}

/** Largest per-channel difference and the share of channels differing by more than 2 levels. */
function diff(a: Buffer, b: Buffer): { max: number; share: number } {
  let max = 0;
  let big = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    if (d > 2) big++;
  }
  return { max, share: big / a.length };
}

describe('rendering the SD 1.5-interface fixture end to end', () => {
  it('gives a 512×512 PNG whose metadata names the key, steps, sampler and model', async () => {
    const r = await renderKey(model, key);
    const meta = await sharp(r.png).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([512, 512, 3]);
    expect(r.pngSha256).toBe(sha256Hex(r.png));
    expect(r).toMatchObject({ key, profileId: 'sd768-64x64-1', steps: 4, guidance: 7.5, scheduler: 'PNDMScheduler' });
    // PNDM with 4 steps calls the UNet 5 times (diffusers' warm-up repeat), guidance batched as one call each
    expect(r.settings.timesteps).toEqual([751, 501, 501, 251, 1]);
    expect(r.timings.unetCalls).toBe(5);
    expect(r.initialNoise).toHaveLength(4 * 64 * 64);
    expect(r.finalLatent).toHaveLength(4 * 64 * 64);
    expect(r.embedding).toHaveLength(77 * 768);
    expect(r.model.files['unet/model.onnx']).toBe(model.folder.files['unet/model.onnx']);
    expect(r.settings.session).toMatchObject({
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: 1,
    });
    // SD keys are ~159k characters: the PNG carries their profile and hash, not the text
    expect(readPngKey(r.png)).toEqual({ kind: 'ref', profileId: 'sd768-64x64-1', sha256: sha256Hex(key) });
  });

  it('uses the key as the initial noise (× init sigma) and the key embedding as the text states', async () => {
    const r = await renderKey(model, key);
    const d = decodeModelKey(model, key);
    expect(Buffer.from(r.initialNoise.buffer).equals(Buffer.from(d.latent.buffer))).toBe(true); // PNDM's init sigma is 1
    expect(Buffer.from(r.embedding.buffer).equals(Buffer.from(d.embedding.buffer))).toBe(true);
  });

  it('classifier-free guidance works: the scale changes the image, scale 1 equals no guidance', async () => {
    const none = await pixels((await renderKey(model, key, { guidanceScale: 1 })).png);
    // just above 1 takes the guided path (uncond + s·(cond − uncond)) with almost the same result
    const barely = await pixels((await renderKey(model, key, { guidanceScale: 1 + 1e-6 })).png);
    const strong = await pixels((await renderKey(model, key, { guidanceScale: 7.5 })).png);
    expect(diff(none, barely).max).toBeLessThanOrEqual(1);
    expect(diff(none, strong).share).toBeGreaterThan(0.05);
  });

  it('guidance mixes against the empty-prompt embedding: a key holding that embedding renders the same at any scale', async () => {
    const { encodeModelKey } = await import('../../pipeline/render/keys.ts');
    const d = decodeModelKey(model, key);
    // quantise the empty prompt's states through the key coding, so cond == what the key decodes to
    const uncondKey = encodeModelKey(model, { steps: 4, embedding: model.uncond, latent: d.latent });
    const uncondDecoded = decodeModelKey(model, uncondKey).embedding;
    const maxCodingError = Math.max(...Array.from(uncondDecoded, (v, i) => Math.abs(v - model.uncond[i])));
    expect(maxCodingError).toBeLessThan(0.02);
    const a = await pixels((await renderKey(model, uncondKey, { guidanceScale: 1 })).png);
    const b = await pixels((await renderKey(model, uncondKey, { guidanceScale: 7.5 })).png);
    expect(diff(a, b).share).toBeLessThan(0.01);
  });

  it('different prompts and different seeds give different images', async () => {
    const base = await renderKey(model, key);
    const otherPrompt = await renderKey(model, await keyFor(model, 'a happy dog', 7, 4));
    const otherSeed = await renderKey(model, await keyFor(model, 'the red cat', 8, 4));
    expect(otherPrompt.pngSha256).not.toBe(base.pngSha256);
    expect(otherSeed.pngSha256).not.toBe(base.pngSha256);
  });

  it('is deterministic across renders, fresh sessions and intra-op thread counts', async () => {
    const first = await renderKey(model, key);
    const again = await renderKey(model, key);
    expect(again.pngSha256).toBe(first.pngSha256);
    for (const threads of [1, 2]) {
      const fresh = await loadModel(TINY_SD15, { intraOpNumThreads: threads });
      try {
        const r = await renderKey(fresh, key);
        expect(r.pngSha256, `${threads} threads`).toBe(first.pngSha256);
        expect(Buffer.from(r.finalLatent.buffer).equals(Buffer.from(first.finalLatent.buffer))).toBe(true);
      } finally {
        await fresh.release();
      }
    }
  });

  it('rejects keys of another profile and malformed keys with KeyError', async () => {
    const sdLob = randomKey(model.registry.get('sd-lob') as never, 1);
    await expect(renderKey(model, sdLob)).rejects.toThrow(/profile sd-lob-1/);
    await expect(renderKey(model, 'sd768-64x64-1.AAAA')).rejects.toBeInstanceOf(KeyError);
  });

  it('stops between steps when cancelled', async () => {
    let calls = 0;
    const run = renderKey(model, key, { cancelled: () => ++calls > 2 });
    await expect(run).rejects.toBeInstanceOf(RenderCancelledError);
    expect(calls).toBe(3);
  });

  it('renders the same bits when driven step by step (as search previews candidates) as in one go', async () => {
    const d = decodeModelKey(model, key);
    const input = { steps: d.steps, embedding: d.embedding, latent: d.latent, guidanceScale: 7.5 };
    const whole = await generate(model, input);
    const sampling = Sampling.start(model, input);
    await sampling.advance(1);
    // this fixture samples with PNDM, whose multistep update has no one-step x0 estimate to preview
    expect(sampling.canPreview).toBe(false);
    expect(sampling.preview()).toBeNull();
    await sampling.advance(sampling.total - 1);
    await sampling.advance(sampling.total - 1); // already there: no step runs twice
    const piecewise = await sampling.finish();
    expect(Buffer.from(piecewise.rgb).equals(Buffer.from(whole.rgb))).toBe(true);
    expect(Buffer.from(piecewise.finalLatent.buffer).equals(Buffer.from(whole.finalLatent.buffer))).toBe(true);
    expect(piecewise.timings.unetCalls).toBe(whole.timings.unetCalls);
  });
});
