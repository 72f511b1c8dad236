import { randomBytes } from 'node:crypto';
import { guidanceScaleProblem } from '../../keyspace/guidance.ts';
import { RenderInputError } from '../errors.ts';
import { MAX_BEST_OF } from '../model/folder.ts';
import { imageEmbeds } from '../model/image-encoder.ts';
import { encodeText } from '../model/text-encoder.ts';
import type { Model } from '../model/types.ts';
import { generate } from './generate.ts';
import { decodeModelKey, encodeModelKey } from './keys.ts';
import { SeededRandom } from './prng.ts';

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
  cancelled?: () => boolean;
}

export interface SearchCandidate {
  key: string;
  /** cosine(image_encoder(image), text_embeds(prompt)); null when not ranked. */
  score: number | null;
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
  const candidates: SearchCandidate[] = [];
  for (let i = 0; i < bestOf; i++) {
    const latent = rng.normals(c * h * w);
    const key = encodeModelKey(model, { steps, embedding: text.hidden, latent, negative, guidance });
    candidates.push({
      key,
      score: bestOf > 1 ? await scoreKey(model, key, text.textEmbeds as Float32Array, options.cancelled) : null,
    });
  }
  let best = candidates[0];
  for (const cand of candidates) if ((cand.score ?? -Infinity) > (best.score ?? -Infinity)) best = cand;
  return { key: best.key, seed: seed.toString(), steps, score: best.score, candidates };
}

/** A scale the model's guidance variant stores, said as a bad search input rather than as a malformed key. */
function checkGuidance(model: Model, guidance: number, negative: boolean): void {
  const profile = negative ? model.negativeGuidanceProfile : model.guidanceProfile;
  const scales = profile?.guidance?.values;
  if (!scales) throw new RenderInputError(`profile ${model.profile.id}'s keys cannot carry guidance`);
  const problem = guidanceScaleProblem(guidance, scales);
  if (problem) throw new RenderInputError(problem);
}

async function scoreKey(
  model: Model,
  key: string,
  textEmbeds: Float32Array,
  cancelled?: () => boolean,
): Promise<number> {
  const d = decodeModelKey(model, key);
  const out = await generate(model, {
    steps: d.steps,
    embedding: d.embedding,
    latent: d.latent,
    negative: d.negative,
    guidanceScale: d.guidance ?? model.guidanceScale,
    cancelled,
  });
  return cosine(await imageEmbeds(model, out.rgb, out.height, out.width), textEmbeds);
}

/** Cosine similarity of two vectors of one length (best-of ranking: image embedding vs text embedding). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`cosine of vectors of length ${a.length} and ${b.length}`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb || 1);
}
