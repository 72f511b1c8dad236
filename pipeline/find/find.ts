import { RenderCancelledError, RenderInputError } from '../errors.ts';
import { encodeText } from '../model/text-encoder.ts';
import type { Model } from '../model/types.ts';
import { generate } from '../render/generate.ts';
import { decodeModelKey, encodeModelKey } from '../render/keys.ts';
import type { Conditioning } from './denoiser.ts';
import { invertDdim } from './invert.ts';
import { encodePicture } from './latent-encoder.ts';
import { type Candidate, searchPlan } from './search-plan.ts';
import { psnr, ssim } from './similarity.ts';

export interface FindOptions {
  /** The key carries this prompt's text states ("this picture, but as …"); default the empty prompt. */
  prompt?: string;
  /** Wall-clock budget for the candidate search, in ms (default DEFAULT_FIND_BUDGET_MS). The first candidate always runs. */
  budgetMs?: number;
  /** Stop after this many candidates (default DEFAULT_FIND_CANDIDATES: a cap that does not depend on the machine). */
  maxCandidates?: number;
  /** Keys of the model's fine-latent variant (8-bit latents, the default when the profile has one) or of its own profile. */
  fine?: boolean;
  cancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface FindResult {
  key: string;
  profileId: string;
  steps: number;
  /** Of the key's rendering against the picture as find saw it (8-bit RGB at the model's size). */
  psnr: number;
  ssim: number;
  /** What the key renders: 8-bit RGB HWC at the model's image size. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Candidates tried and planned (docs/find.md). */
  tried: number;
  planned: number;
  /** The candidate that won, and every candidate tried with its score, in order. */
  chosen: Candidate;
  history: { candidate: Candidate; psnr: number }[];
  timings: { totalMs: number; unetCalls: number };
}

/**
 * A safety stop, not what decides the key: on an idle 2-core machine the default candidates take 4–8 s, and the
 * cap (not the clock) should end the search there, so the same picture gives the same key even on a busy server.
 */
export const DEFAULT_FIND_BUDGET_MS = 30_000;

/**
 * Candidates tried by default: 12 took 4–6 s per picture on 2 cores and gained about 1 dB over the first candidate
 * (docs/find.md); a cap, unlike a time budget, finds the same key on any machine.
 */
export const DEFAULT_FIND_CANDIDATES = 12;

/**
 * Picture → key: the key whose rendering is most like the picture among the search plan's candidates. Each
 * candidate encodes the picture with the VAE, inverts the model's sampler exactly (DDIM, per-step fixed point,
 * guidance included) under the empty prompt (measured: inverting under a caption diverges at the model's guidance),
 * quantises the noise into a key (with the prompt's states when one is given) and renders that key, so the score is
 * that of the very image the key gives anywhere.
 */
export async function findKey(model: Model, rgb: Uint8Array, options: FindOptions = {}): Promise<FindResult> {
  const t0 = performance.now();
  const [height, width] = model.shapes.imageSize as [number, number];
  if (rgb.length !== width * height * 3)
    throw new RenderInputError(`picture has ${rgb.length} values, expected ${width}×${height}×3`);
  const fine = (options.fine ?? true) && model.fineProfile !== null;
  const budget = options.budgetMs ?? DEFAULT_FIND_BUDGET_MS;
  const check = () => {
    if (options.cancelled?.()) throw new RenderCancelledError();
  };
  const z0 = await encodePicture(model, rgb);
  const keyStates = quantisedStates(model, (await encodeText(model, options.prompt ?? '')).hidden);
  const inversionStates = options.prompt ? quantisedStates(model, model.uncond) : keyStates;
  const inversion: Conditioning = { embedding: inversionStates, uncond: model.uncond, guidance: model.guidanceScale };
  const plan = searchPlan(model.profile.steps.values, model.defaultSteps).slice(
    0,
    options.maxCandidates ?? DEFAULT_FIND_CANDIDATES,
  );
  const inverted = new Map<string, Float32Array>();
  let best: (FindResult & { score: number }) | null = null;
  let unetCalls = 0;
  let tried = 0;
  const history: FindResult['history'] = [];
  for (const cand of plan) {
    if (tried > 0 && performance.now() - t0 > budget) break;
    check();
    const id = `${cand.steps}/${cand.iterations}`;
    let noise = inverted.get(id);
    if (!noise) {
      const inv = await invertDdim(model, z0, inversion, { ...cand, cancelled: options.cancelled });
      unetCalls += inv.unetCalls;
      noise = inv.latent;
      inverted.set(id, noise);
    }
    const key = encodeModelKey(
      model,
      { steps: cand.steps, embedding: keyStates, latent: noise.map((v) => v * cand.scale) },
      { fine },
    );
    const d = decodeModelKey(model, key);
    const out = await generate(model, {
      steps: d.steps,
      embedding: d.embedding,
      latent: d.latent,
      guidanceScale: model.guidanceScale,
      cancelled: options.cancelled,
    });
    unetCalls += out.timings.unetCalls;
    tried++;
    options.onProgress?.(tried, plan.length);
    const score = psnr(rgb, out.rgb);
    history.push({ candidate: cand, psnr: score });
    if (best === null || score > best.score) {
      best = {
        key,
        profileId: d.profileId,
        steps: d.steps,
        psnr: score,
        ssim: 0,
        rgb: out.rgb,
        width,
        height,
        tried: 0,
        planned: plan.length,
        chosen: cand,
        history,
        timings: { totalMs: 0, unetCalls: 0 },
        score,
      };
    }
  }
  if (best === null) throw new RenderInputError('find planned no candidates');
  const { score: _, ...result } = best;
  return {
    ...result,
    ssim: ssim(rgb, best.rgb, width, height),
    tried,
    timings: { totalMs: performance.now() - t0, unetCalls },
  };
}

/** Text states as a key stores them (their coding's nearest values), so inversion runs on what renders will see. */
function quantisedStates(model: Model, states: Float32Array): Float32Array {
  const [c, h, w] = model.shapes.latent;
  const steps = model.profile.steps.values[0];
  const key = encodeModelKey(model, { steps, embedding: states, latent: new Float32Array(c * h * w) });
  return decodeModelKey(model, key).embedding;
}
