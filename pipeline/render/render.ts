import { RenderInputError } from '../errors.ts';
import type { Model } from '../model/types.ts';
import type { SessionSettings } from '../onnx/sessions.ts';
import { encodePng, PNG_OPTIONS, sha256Hex } from '../png/render-png.ts';
import type { GuidanceMode } from '../unet/guided.ts';
import { generate } from './generate.ts';
import { decodeModelKey, type ModelKey } from './keys.ts';

export interface RenderSettings {
  session: SessionSettings;
  /** The UNet sessions' intra-op threads and how guided steps ran; neither changes the bits (GuidedUnet checks). */
  unet: { threads: number[]; guidance: GuidanceMode };
  png: typeof PNG_OPTIONS;
  timesteps: number[];
  latentScaling: number;
  latentShape: number[];
  embeddingShape: number[];
  imageSize: [number, number];
  /** Why a requested execution provider was not used, etc. */
  warnings: string[];
}

/** docs/contracts.md's RenderResult. */
export interface RenderResult {
  png: Buffer;
  pngSha256: string;
  key: string;
  profileId: string;
  steps: number;
  /** The scale the image was rendered at: the key's when it carries one, else the model's (or the caller's). */
  guidance: number;
  scheduler: string;
  initialNoise: Float32Array;
  finalLatent: Float32Array;
  /** With `keepSteps`: the initial latent and each step's, [steps+1, C, H, W] flattened. */
  stepLatents?: Float32Array;
  embedding: Float32Array;
  /** The unconditional branch's states when the key carries a negative prompt; null for the empty prompt's. */
  negativeEmbedding: Float32Array | null;
  settings: RenderSettings;
  model: { name: string; version: string; files: Record<string, string> };
  timings: { denoiseMs: number; decodeMs: number; pngMs: number; unetCalls: number };
}

export interface RenderOptions {
  /**
   * Guidance scale for a key that carries none (default: the model's); such an image is then not its key's alone,
   * so this is for experiments and tests. A key that carries a scale renders at it, and another value here is a
   * RenderInputError (the same value is accepted).
   */
  guidanceScale?: number;
  /** The prompt the key came from, when known (goes into the PNG's parameters text). */
  prompt?: string;
  /** The negative prompt the key's unconditional states came from, when known (PNG parameters text too). */
  negativePrompt?: string;
  /** Also return every step's latent (research batches' --save-steps). */
  keepSteps?: boolean;
  cancelled?: () => boolean;
  onStep?: (done: number, total: number) => void;
}

/** A key decoded and denoised to pixels at its own recipe (steps, states, noise, negative, scale); no PNG yet. */
export async function generateKey(model: Model, keyText: string, options: RenderOptions = {}) {
  const decoded = decodeModelKey(model, keyText);
  const guidance = renderGuidance(decoded, options.guidanceScale, model);
  const out = await generate(model, {
    steps: decoded.steps,
    embedding: decoded.embedding,
    latent: decoded.latent,
    negative: decoded.negative,
    guidanceScale: guidance,
    keepSteps: options.keepSteps,
    cancelled: options.cancelled,
    onStep: options.onStep,
  });
  return { decoded, guidance, out };
}

/** Renders one key in this thread with an already loaded model. Workers and the CLI both call this. */
export async function renderKey(model: Model, keyText: string, options: RenderOptions = {}): Promise<RenderResult> {
  const { decoded, guidance, out } = await generateKey(model, keyText, options);
  const t = performance.now();
  const png = await encodePng(out.rgb, out.width, out.height, {
    key: decoded.key,
    profileId: decoded.profileId,
    prompt: options.prompt,
    negativePrompt: options.negativePrompt,
    steps: decoded.steps,
    sampler: out.scheduler,
    guidance,
    width: out.width,
    height: out.height,
    modelName: model.name,
    modelHash: model.folder.files['unet/model.onnx'] ?? '',
  });
  const pngMs = performance.now() - t;
  return {
    png,
    pngSha256: sha256Hex(png),
    key: decoded.key,
    profileId: decoded.profileId,
    steps: decoded.steps,
    guidance,
    scheduler: out.scheduler,
    initialNoise: out.initialNoise,
    finalLatent: out.finalLatent,
    ...(out.stepLatents && { stepLatents: out.stepLatents }),
    embedding: decoded.embedding,
    negativeEmbedding: decoded.negative ?? null,
    settings: {
      session: { ...model.settings },
      unet: { threads: model.guided.threads, guidance: model.guided.mode },
      png: PNG_OPTIONS,
      timesteps: out.timesteps,
      latentScaling: model.folder.latentScaling,
      latentShape: [1, ...model.shapes.latent],
      embeddingShape: [model.shapes.tokens, model.shapes.hidden],
      imageSize: [out.height, out.width],
      warnings: [...model.warnings],
    },
    model: { name: model.name, version: model.version, files: { ...model.folder.files } },
    timings: { ...out.timings, pngMs },
  };
}

/** A key's own scale wins and cannot be overridden: the key is the whole recipe. */
function renderGuidance(decoded: ModelKey, requested: number | undefined, model: Model): number {
  if (decoded.guidance === undefined) return requested ?? model.guidanceScale;
  if (requested !== undefined && requested !== decoded.guidance) {
    throw new RenderInputError(
      `key ${decoded.profileId} carries guidance ${decoded.guidance}; it cannot be rendered at ${requested}`,
    );
  }
  return decoded.guidance;
}
