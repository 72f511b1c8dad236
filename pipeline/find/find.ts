import { quantiseSection } from '../../keyspace/index.ts';
import { RenderCancelledError, RenderInputError } from '../errors.ts';
import { encodeText } from '../model/text-encoder.ts';
import type { Model } from '../model/types.ts';
import { encodeModelKey } from '../render/keys.ts';
import { generateKey } from '../render/render.ts';
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
 * Find inverts at no fewer steps than this, whatever the model renders its searches at: a short sampler inverts
 * coarsely. Measured on emoji-ldm 7.0.0 (searches at 8 steps), three searched pictures, 3 candidates each: 18.1,
 * 28.6 and 34.8 dB PSNR inverting at 8 steps against 30.3, 37.3 and 34.2 dB at 16.
 */
export const FIND_MIN_PREFERRED_STEPS = 16;

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
  const budget = options.budgetMs ?? DEFAULT_FIND_BUDGET_MS;
  const z0 = await encodePicture(model, rgb);
  const keyStates = quantisedStates(model, (await encodeText(model, options.prompt ?? '')).hidden);
  const inversion: Conditioning = {
    embedding: options.prompt ? quantisedStates(model, model.uncond) : keyStates,
    uncond: model.uncond,
    guidance: model.guidanceScale,
  };
  const plan = searchPlan(model.profile.steps.values, Math.max(model.defaultSteps, FIND_MIN_PREFERRED_STEPS)).slice(
    0,
    options.maxCandidates ?? DEFAULT_FIND_CANDIDATES,
  );
  const fine = (options.fine ?? true) && model.fineProfile !== null;
  const noiseOf = invertedNoise(model, z0, inversion, options.cancelled);
  const history: FindResult['history'] = [];
  let best: (Scored & { candidate: Candidate }) | null = null;
  let unetCalls = 0;
  for (const candidate of plan) {
    if (history.length > 0 && performance.now() - t0 > budget) break;
    if (options.cancelled?.()) throw new RenderCancelledError();
    const noise = await noiseOf(candidate);
    unetCalls += noise.unetCalls;
    const latent = noise.latent.map((v) => v * candidate.scale);
    const key = encodeModelKey(model, { steps: candidate.steps, embedding: keyStates, latent }, { fine });
    const scored = await renderScored(model, key, rgb, options.cancelled);
    unetCalls += scored.unetCalls;
    history.push({ candidate, psnr: scored.psnr });
    options.onProgress?.(history.length, plan.length);
    if (best === null || scored.psnr > best.psnr) best = { ...scored, candidate };
  }
  if (best === null) throw new RenderInputError('find planned no candidates');
  return {
    key: best.key,
    profileId: best.profileId,
    steps: best.steps,
    psnr: best.psnr,
    ssim: ssim(rgb, best.rgb, width, height),
    rgb: best.rgb,
    width,
    height,
    tried: history.length,
    planned: plan.length,
    chosen: best.candidate,
    history,
    timings: { totalMs: performance.now() - t0, unetCalls },
  };
}

interface Scored {
  key: string;
  profileId: string;
  steps: number;
  psnr: number;
  rgb: Uint8Array;
  unetCalls: number;
}

/** Inverted noise per (steps, iterations), computed once: the scale variants of a candidate share it. */
function invertedNoise(model: Model, z0: Float32Array, cond: Conditioning, cancelled?: () => boolean) {
  const done = new Map<string, Float32Array>();
  return async (c: Candidate): Promise<{ latent: Float32Array; unetCalls: number }> => {
    const id = `${c.steps}/${c.iterations}`;
    const cached = done.get(id);
    if (cached) return { latent: cached, unetCalls: 0 };
    const inv = await invertDdim(model, z0, cond, { steps: c.steps, iterations: c.iterations, cancelled });
    done.set(id, inv.latent);
    return inv;
  };
}

/** Renders a key as renderKey would (its decoded values, the model's guidance) and scores it against the picture. */
async function renderScored(
  model: Model,
  key: string,
  picture: Uint8Array,
  cancelled?: () => boolean,
): Promise<Scored> {
  const { decoded, out } = await generateKey(model, key, { cancelled });
  return {
    key,
    profileId: decoded.profileId,
    steps: decoded.steps,
    psnr: psnr(picture, out.rgb),
    rgb: out.rgb,
    unetCalls: out.timings.unetCalls,
  };
}

/** Text states as a key stores them (their coding's nearest values), so inversion runs on what renders will see. */
function quantisedStates(model: Model, states: Float32Array): Float32Array {
  return quantiseSection(model.profile.embedding, states);
}
