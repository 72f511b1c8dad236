import { randomBytes } from 'node:crypto';
import { guidanceScaleProblem } from '../../keyspace/guidance.ts';
import { RenderInputError } from '../errors.ts';
import { MAX_BEST_OF } from '../model/folder.ts';
import { imageEmbeds } from '../model/image-encoder.ts';
import { encodeText } from '../model/text-encoder.ts';
import type { Model } from '../model/types.ts';
import { decodeLatents } from '../model/vae-decoder.ts';
import { type GenerateInput, Sampling, toRgb8 } from './generate.ts';
import { decodeModelKey, encodeModelKey } from './keys.ts';
import { SeededRandom } from './prng.ts';
import { type CandidateScore, candidateScore } from './ranking.ts';

export { cosine } from './ranking.ts';

export interface SearchOptions {
  /** Seed of the latent PRNG; omitted → a fresh 64-bit seed from the OS's CSPRNG (reported back). */
  seed?: bigint | number;
  /**
   * Render this many candidates and keep the one whose image best matches the prompt (needs an image encoder).
   * Omitted: the model's own number (defaultBestOf).
   */
  bestOf?: number;
  /** A negative prompt: its text states go into the key (the model profile's negative variant) as guidance's
   * unconditional branch. Empty or omitted: the model's default, the empty prompt, and a key of the base profile. */
  negative?: string;
  /** Step count of the key (one the profile stores); default the model's (defaultSteps). */
  steps?: number;
  /**
   * A guidance scale to keep in the key (the profile's guidance variant: one of GUIDANCE_SCALES), which it then
   * always renders at. Omitted: a key without one, rendered at the model's scale.
   */
  guidance?: number;
  /**
   * Rank candidates early: after `afterSteps` steps each is scored on its predicted image, and only the `keep` best
   * finish. Omitted: the model's own (model_index lob.search_preview); null: every candidate finishes.
   */
  preview?: SearchPreview | null;
  cancelled?: () => boolean;
}

export interface SearchCandidate {
  key: string;
  /**
   * How well the finished image shows the prompt (ranking.ts): log p(prompt | image) among the model's reference
   * names when it has search_ranking/, else cosine(image_encoder(image), text_embeds(prompt)); null when the
   * candidate was not finished.
   */
  score: number | null;
  /** The same score on the image predicted part-way, when candidates were ranked early. */
  previewScore?: number;
}

export interface SearchResult {
  key: string;
  /** The seed used, as a decimal string: `search --seed` with it gives the same key again. */
  seed: string;
  steps: number;
  score: number | null;
  candidates: SearchCandidate[];
}

/**
 * Candidates a search ranks when its caller names no number: model_index lob.search_best_of (an edition whose image
 * encoder ranks well asks for several), else 1. A model that cannot rank always gets 1.
 */
export function defaultBestOf(model: Model): number {
  return canRank(model) ? (model.folder.lob?.search_best_of ?? 1) : 1;
}

function canRank(model: Model): boolean {
  return Boolean(model.folder.onnx.imageEncoder) && model.shapes.textEmbedsOutput === 'text_embeds';
}

/** The model's default step count, or the nearest count its keyspace can store. */
export function defaultSteps(model: Model): number {
  const values = model.profile.steps.values;
  return values.reduce(
    (best, v) => (Math.abs(v - model.defaultSteps) < Math.abs(best - model.defaultSteps) ? v : best),
    values[0],
  );
}

/**
 * Prompt → key: the prompt's text states become the key's embedding; the latent is standard-normal noise from a
 * seeded PRNG (candidate i takes the i-th draw, so bestOf 1 and the first of bestOf N agree); steps = the model's
 * default. "Search again" is simply another seed.
 */
export async function searchKey(model: Model, prompt: string, options: SearchOptions = {}): Promise<SearchResult> {
  const bestOf = options.bestOf ?? defaultBestOf(model);
  if (!Number.isInteger(bestOf) || bestOf < 1 || bestOf > MAX_BEST_OF)
    throw new RenderInputError(`bestOf must be an integer in 1..${MAX_BEST_OF}, got ${bestOf}`);
  if (bestOf > 1 && !canRank(model)) {
    throw new RenderInputError(
      `bestOf ${bestOf} needs a model with image_encoder and text_embeds; ${model.name} has none`,
    );
  }
  const seed =
    options.seed === undefined ? randomBytes(8).readBigUInt64LE(0) : BigInt.asUintN(64, BigInt(options.seed));
  const rng = new SeededRandom(seed);
  const text = await encodeText(model, prompt);
  const negative = options.negative ? (await encodeText(model, options.negative)).hidden : undefined;
  const steps = options.steps ?? defaultSteps(model);
  if (!model.profile.steps.values.includes(steps)) {
    throw new RenderInputError(
      `steps ${steps} is not one the keyspace stores (${model.profile.steps.values.join(', ')})`,
    );
  }
  const { guidance } = options;
  if (guidance !== undefined) checkGuidance(model, guidance, negative !== undefined);
  const [c, h, w] = model.shapes.latent;
  const keys: string[] = [];
  for (let i = 0; i < bestOf; i++) {
    const latent = rng.normals(c * h * w);
    keys.push(encodeModelKey(model, { steps, embedding: text.hidden, latent, negative, guidance }));
  }
  const candidates =
    bestOf === 1
      ? [{ key: keys[0], score: null }]
      : await rankCandidates(model, keys, candidateScore(text.textEmbeds as Float32Array, model.folder.searchRanking), {
          preview: options.preview === undefined ? defaultPreview(model) : options.preview,
          cancelled: options.cancelled,
        });
  let best = candidates[0];
  for (const cand of candidates) if ((cand.score ?? -Infinity) > (best.score ?? -Infinity)) best = cand;
  return { key: best.key, seed: seed.toString(), steps, score: best.score, candidates };
}

/** When candidates are ranked early, and how many of them finish. */
export interface SearchPreview {
  afterSteps: number;
  keep: number;
}

/** The model's early ranking (model_index lob.search_preview), or null: rank finished images only. */
export function defaultPreview(model: Model): SearchPreview | null {
  const p = model.folder.lob?.search_preview;
  return p ? { afterSteps: p.after_steps, keep: p.keep } : null;
}

/**
 * Scores every candidate key against the prompt. With a preview, all run `afterSteps` steps and are scored on the
 * image their sampler predicts from there; only the `keep` best finish, so a search can look at more candidates for
 * the same time (measured on the default model, where it did not beat 4 finished beyond noise: pipeline/train/
 * README.md). Samplers without an estimate (PNDM), and previews at or past the last step, finish every candidate.
 */
async function rankCandidates(
  model: Model,
  keys: string[],
  score: CandidateScore,
  { preview, cancelled }: { preview: SearchPreview | null; cancelled?: () => boolean },
): Promise<SearchCandidate[]> {
  const runs = keys.map((key) => Sampling.start(model, samplingInput(model, key, cancelled)));
  const early = preview && preview.keep < keys.length && preview.afterSteps < runs[0].total && runs[0].canPreview;
  if (!early) {
    const out: SearchCandidate[] = [];
    for (let i = 0; i < keys.length; i++) out.push({ key: keys[i], score: await scoreRun(model, runs[i], score) });
    return out;
  }
  const previewScores: number[] = [];
  for (const run of runs) {
    await run.advance(preview.afterSteps);
    previewScores.push(await scoreLatent(model, run.preview() as Float32Array, score));
  }
  // the `keep` best previews, ties to the earlier candidate
  const order = keys.map((_, i) => i).sort((a, b) => previewScores[b] - previewScores[a] || a - b);
  const kept = new Set(order.slice(0, preview.keep));
  const out: SearchCandidate[] = [];
  for (let i = 0; i < keys.length; i++) {
    const finished = kept.has(i) ? await scoreRun(model, runs[i], score) : null;
    out.push({ key: keys[i], score: finished, previewScore: previewScores[i] });
  }
  return out;
}

function samplingInput(model: Model, key: string, cancelled?: () => boolean): GenerateInput {
  const d = decodeModelKey(model, key);
  return {
    steps: d.steps,
    embedding: d.embedding,
    latent: d.latent,
    negative: d.negative,
    guidanceScale: d.guidance ?? model.guidanceScale,
    cancelled,
  };
}

async function scoreRun(model: Model, run: Sampling, score: CandidateScore): Promise<number> {
  const { rgb, height, width } = await run.finish();
  return score({ embeds: await imageEmbeds(model, rgb, height, width), rgb, height, width });
}

/** Decodes a latent the way a finished render is decoded, then scores the picture against the prompt. */
async function scoreLatent(model: Model, latent: Float32Array, score: CandidateScore): Promise<number> {
  const img = await decodeLatents(model, latent, 1);
  const { height, width } = img;
  const rgb = toRgb8(img.data, img.channels, height, width);
  return score({ embeds: await imageEmbeds(model, rgb, height, width), rgb, height, width });
}

/** A scale the model's guidance variant stores, said as a bad search input rather than as a malformed key. */
function checkGuidance(model: Model, guidance: number, negative: boolean): void {
  const profile = negative ? model.negativeGuidanceProfile : model.guidanceProfile;
  const scales = profile?.guidance?.values;
  if (!scales) throw new RenderInputError(`profile ${model.profile.id}'s keys cannot carry guidance`);
  const problem = guidanceScaleProblem(guidance, scales);
  if (problem) throw new RenderInputError(problem);
}
