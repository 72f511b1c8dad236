import { statSync } from 'node:fs';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { loadProfile, type Profile } from '../keyspace/profile.ts';
import { createProfileRegistry, type ProfileRegistry } from '../keyspace/registry.ts';
import { fineVariant, negativeVariant } from '../keyspace/variant.ts';
import { ModelLoadError, RenderInputError } from './errors.ts';
import { GuidedUnet } from './guided-unet.ts';
import { type ModelFolder, modelName, readModelFolder } from './model-folder.ts';
import { modelProfileJson } from './profile.ts';
import { createScheduler, SchedulerConfigError } from './schedulers/index.ts';
import {
  type IoSpec,
  ioSpecs,
  type OpenedSession,
  openSession,
  requireIo,
  resolveSessionSettings,
  type SessionRequest,
  type SessionSettings,
} from './sessions.ts';
import { loadTokenizer, tokenize } from './tokenizer.ts';
import { UnetBranch } from './unet-branch.ts';

export interface LoadModelOptions extends SessionRequest {
  /** Overrides the model's classifier-free guidance scale (model_index lob.guidance_scale, else 7.5). */
  guidanceScale?: number;
  /**
   * Run a guided step's two branches at once, each on half of the intra-op threads (a second UNet session on a
   * helper thread). Default: when there are ≥ 2 threads, the model guides (scale > 1) and the UNet file is at most
   * PARALLEL_GUIDANCE_MAX_BYTES (the second session holds another copy of the weights).
   */
  parallelGuidance?: boolean;
}

/** Largest UNet file that gets a second session for parallel guidance by default (SD 1.5's is 3.4 GB). */
export const PARALLEL_GUIDANCE_MAX_BYTES = 512 * 2 ** 20;

/** Shapes the pipeline feeds, read from the sessions (exports differ) and the folder's configs. */
export interface ModelShapes {
  tokens: number;
  hidden: number;
  textIdsType: 'int32' | 'int64';
  /** Latent [C, H, W] (batch excluded). */
  latent: [number, number, number];
  timestepType: 'int64' | 'int32' | 'float32';
  /** Rank of the timestep input: 0 (scalar) or 1 ([batch] or a fixed [1]). */
  timestepRank: 0 | 1;
  /** False when the UNet's batch dimension is fixed at 1: guidance then runs two UNet calls. */
  unetBatches: boolean;
  textEmbedsOutput: 'text_embeds' | 'pooler_output' | null;
  imageSize: [number, number] | null;
}

export interface Model {
  dir: string;
  name: string;
  version: string;
  folder: ModelFolder;
  settings: SessionSettings;
  warnings: string[];
  shapes: ModelShapes;
  tokenizer: PreTrainedTokenizer;
  text: OpenedSession;
  unet: OpenedSession;
  /** Runs guided steps (batched, or the two branches in parallel). */
  guided: GuidedUnet;
  vaeDecoder: OpenedSession;
  /** The image encoder, opened on first use (renders never need it; only best-of ranking does); null if absent. */
  imageEncoder(): Promise<OpenedSession | null>;
  /** The VAE encoder, opened on first use (only finding a picture's key needs it); null if absent. */
  vaeEncoder(): Promise<OpenedSession | null>;
  defaultSteps: number;
  guidanceScale: number;
  schedulerName: string;
  /** Empty-prompt text states [T×D], computed once at load: the unconditional branch of guidance. */
  uncond: Float32Array;
  /** The model's keyspace profile (keyspace.json, or derived for SD exports) and a registry holding it. */
  profile: Profile;
  /** Its negative-prompt variant (keys that also carry the unconditional branch's states); null for bare profiles. */
  negativeProfile: Profile | null;
  /** Its fine-latent variant (the keys `find` gives: 8-bit latents); null when the profile has none. */
  fineProfile: Profile | null;
  registry: ProfileRegistry;
  release(): Promise<void>;
}

const DEFAULT_SD_STEPS = 20;
const DEFAULT_SD_GUIDANCE = 7.5;

function fixedDim(d: number | string | undefined): number | null {
  return typeof d === 'number' && d > 0 ? d : null;
}

function readShapes(
  folder: ModelFolder,
  text: OpenedSession,
  unet: OpenedSession,
  tokenizer: PreTrainedTokenizer,
): ModelShapes {
  const tIn = ioSpecs(text.session, 'input');
  const tOut = ioSpecs(text.session, 'output');
  const ids = requireIo(text.path, tIn, 'input_ids', ['int32', 'int64'], 2);
  const hiddenOut = requireIo(text.path, tOut, 'last_hidden_state', ['float32'], 3);
  const uIn = ioSpecs(unet.session, 'input');
  const sample = requireIo(unet.path, uIn, 'sample', ['float32'], 4);
  const timestep = requireIo(unet.path, uIn, 'timestep', ['int64', 'int32', 'float32']);
  const ehs = requireIo(unet.path, uIn, 'encoder_hidden_states', ['float32'], 3);
  requireIo(unet.path, ioSpecs(unet.session, 'output'), 'out_sample', ['float32'], 4);
  const extra = uIn.filter((s) => !['sample', 'timestep', 'encoder_hidden_states'].includes(s.name));
  if (extra.length) {
    throw new ModelLoadError(
      unet.path,
      `has inputs this pipeline does not drive: ${extra.map((s) => s.name).join(', ')}`,
    );
  }
  if (timestep.shape.length > 1)
    throw new ModelLoadError(unet.path, `"timestep" has rank ${timestep.shape.length}, expected 0 or 1`);

  const maxLen = (tokenizer as unknown as { model_max_length?: number }).model_max_length;
  const tokens = fixedDim(ids.shape[1]) ?? fixedDim(ehs.shape[1]) ?? (maxLen && maxLen < 100_000 ? maxLen : 77);
  const hidden = fixedDim(hiddenOut.shape[2]) ?? fixedDim(ehs.shape[2]);
  if (!hidden) throw new ModelLoadError(text.path, '"last_hidden_state" has no fixed width');
  if (fixedDim(ehs.shape[2]) !== null && ehs.shape[2] !== hidden) {
    throw new ModelLoadError(unet.path, `"encoder_hidden_states" width ${ehs.shape[2]} ≠ text encoder width ${hidden}`);
  }
  const channels = fixedDim(sample.shape[1]) ?? 4;
  const side = folder.unetSampleSize ?? 64;
  const latent: [number, number, number] = [
    channels,
    fixedDim(sample.shape[2]) ?? side,
    fixedDim(sample.shape[3]) ?? side,
  ];
  const names = tOut.map((s) => s.name);
  return {
    tokens,
    hidden,
    textIdsType: ids.type as 'int32' | 'int64',
    latent,
    timestepType: timestep.type as ModelShapes['timestepType'],
    timestepRank: timestep.shape.length as 0 | 1,
    unetBatches: fixedDim(sample.shape[0]) !== 1,
    textEmbedsOutput: names.includes('text_embeds')
      ? 'text_embeds'
      : names.includes('pooler_output')
        ? 'pooler_output'
        : null,
    imageSize: null,
  };
}

function checkImageEncoder(enc: OpenedSession, size: [number, number]): void {
  const spec: IoSpec = requireIo(enc.path, ioSpecs(enc.session, 'input'), 'pixel_values', ['float32'], 4);
  requireIo(enc.path, ioSpecs(enc.session, 'output'), 'image_embeds', ['float32'], 2);
  const [h, w] = [fixedDim(spec.shape[2]), fixedDim(spec.shape[3])];
  if ((h !== null && h !== size[0]) || (w !== null && w !== size[1])) {
    throw new ModelLoadError(enc.path, `"pixel_values" is ${h}×${w} but the VAE decodes ${size[0]}×${size[1]}`);
  }
}

/** Loads a diffusers ONNX folder: sessions opened once with pinned options, tokenizer, unconditional embedding. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Model> {
  const folder = await readModelFolder(dir);
  const settings = resolveSessionSettings(options);
  const warnings: string[] = [];
  // the text encoder opens first so a failing non-CPU provider falls back once; the rest load concurrently
  const text = await openSession(folder.onnx.textEncoder, settings, warnings);
  const guidanceScale = options.guidanceScale ?? folder.lob?.guidance_scale ?? DEFAULT_SD_GUIDANCE;
  if (!(guidanceScale >= 0)) throw new RangeError(`guidance scale must be ≥ 0, got ${guidanceScale}`);
  const unetThreads = splitUnetThreads(settings.intraOpNumThreads, guidanceScale, folder, options.parallelGuidance);
  // the branch thread loads its UNet while this thread loads the rest (started after it, it made `lob render`
  // about 0.7 s slower to its first image when measured)
  const branch = unetThreads.length === 2 ? openBranch(folder.onnx.unet, settings, unetThreads[1]) : null;
  const sessions: OpenedSession[] = [text];
  try {
    const [tokenizer, [unet, vaeDecoder]] = await Promise.all([
      loadTokenizer(folder.tokenizerDir),
      openAllOrNone(
        [
          openSession(folder.onnx.unet, { ...settings, intraOpNumThreads: unetThreads[0] }, warnings),
          openSession(folder.onnx.vaeDecoder, settings, warnings),
        ],
        sessions,
      ),
    ]);
    requireIo(vaeDecoder.path, ioSpecs(vaeDecoder.session, 'input'), 'latent_sample', ['float32'], 4);
    requireIo(vaeDecoder.path, ioSpecs(vaeDecoder.session, 'output'), 'sample', ['float32'], 4);
    const shapes = readShapes(folder, text, unet, tokenizer);

    const defaultSteps = folder.lob?.default_steps ?? DEFAULT_SD_STEPS;
    const schedulerName = checkedSchedulerName(folder, dir, defaultSteps);
    const profile = checkedProfile(folder, shapes, dir);
    const negativeProfile = negativeVariant(profile);
    const fineProfile = fineVariant(profile);
    let imageEncoder: Promise<OpenedSession> | undefined;
    let vaeEncoder: Promise<OpenedSession> | undefined;
    const partial = { folder, shapes, tokenizer, text };
    const uncond = (await encodeText(partial, '')).hidden;
    // probe the decoder once so the image size is known (and a broken decoder fails at load, not at first render)
    const probe = await decodeLatents(
      { shapes, folder, vaeDecoder },
      new Float32Array(shapes.latent[0] * shapes.latent[1] * shapes.latent[2]),
      1,
    );
    shapes.imageSize = [probe.height, probe.width];
    const opened = await branch;
    if (opened && !opened.ok) {
      warnings.push(`${opened.message}; guidance runs as one batch on ${unetThreads[0]} thread(s)`);
    }
    const guided = new GuidedUnet(unet, shapes, opened?.ok ? opened.branch : null, unetThreads, warnings);
    const model: Model = {
      dir,
      name: modelName(folder),
      version: String(folder.lob?.version ?? '0'),
      folder,
      settings,
      warnings,
      shapes,
      tokenizer,
      text,
      unet,
      guided,
      vaeDecoder,
      imageEncoder() {
        if (!folder.onnx.imageEncoder) return Promise.resolve(null);
        const path = folder.onnx.imageEncoder;
        imageEncoder ??= openSession(path, settings, warnings).then((enc) => {
          checkImageEncoder(enc, shapes.imageSize as [number, number]);
          return enc;
        });
        return imageEncoder;
      },
      vaeEncoder() {
        if (!folder.onnx.vaeEncoder) return Promise.resolve(null);
        const path = folder.onnx.vaeEncoder;
        vaeEncoder ??= openSession(path, settings, warnings).then((enc) => {
          requireIo(enc.path, ioSpecs(enc.session, 'input'), 'sample', ['float32'], 4);
          requireIo(enc.path, ioSpecs(enc.session, 'output'), 'latent_sample', ['float32'], 4);
          return enc;
        });
        return vaeEncoder;
      },
      defaultSteps,
      guidanceScale,
      schedulerName,
      uncond,
      profile,
      negativeProfile,
      fineProfile,
      registry: createProfileRegistry([profile, negativeProfile, fineProfile].filter((p): p is Profile => p !== null)),
      async release() {
        await guided.close();
        const image = imageEncoder ? await imageEncoder.catch(() => null) : null;
        const vae = vaeEncoder ? await vaeEncoder.catch(() => null) : null;
        for (const s of [text, unet, vaeDecoder, image, vae]) await s?.session.release();
      },
    };
    return model;
  } catch (err) {
    // a load that fails after the branch thread started must stop it, or it keeps the process alive
    const opened = await branch;
    if (opened?.ok) await opened.branch.close();
    await releaseQuietly(sessions);
    throw err;
  }
}

/**
 * Opens sessions side by side, adding each opened one to `opened`; when one fails, waits for the others to settle
 * before throwing. Throwing at the first failure left a session still being created in the background: a render
 * worker then reported its load error and was terminated mid-creation, and the native callback into the torn-down
 * thread aborted the whole process ("terminate called after throwing an instance of 'Napi::Error'").
 */
async function openAllOrNone(openings: Promise<OpenedSession>[], opened: OpenedSession[]): Promise<OpenedSession[]> {
  const settled = await Promise.allSettled(openings);
  for (const s of settled) if (s.status === 'fulfilled') opened.push(s.value);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return (settled as PromiseFulfilledResult<OpenedSession>[]).map((s) => s.value);
}

async function releaseQuietly(sessions: OpenedSession[]): Promise<void> {
  for (const s of sessions) await s.session.release().catch(() => {});
}

/**
 * The UNet's intra-op threads: [all] for one session, or [caller's half, branch thread's half] when a guided step's
 * branches run in parallel (forced by `requested`, else when ≥ 2 threads, guidance > 1 and a UNet file small
 * enough to hold twice).
 */
function splitUnetThreads(threads: number, guidance: number, folder: ModelFolder, requested?: boolean): number[] {
  const parallel = requested ?? (guidance > 1 && statSync(folder.onnx.unet).size <= PARALLEL_GUIDANCE_MAX_BYTES);
  return parallel && threads >= 2 ? [Math.ceil(threads / 2), Math.floor(threads / 2)] : [threads];
}

function checkedSchedulerName(folder: ModelFolder, dir: string, steps: number): string {
  try {
    return createScheduler(folder.schedulerConfig, steps, { noiseFor: () => new Float32Array(0) }).name;
  } catch (err) {
    if (err instanceof SchedulerConfigError || err instanceof RangeError) {
      throw new ModelLoadError(`${dir}/scheduler/scheduler_config.json`, err.message);
    }
    throw err;
  }
}

function checkedProfile(folder: ModelFolder, shapes: ModelShapes, dir: string): Profile {
  try {
    return loadProfile(modelProfileJson(folder, shapes));
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    throw new ModelLoadError(`${dir}/keyspace.json`, (err as Error).message);
  }
}

async function openBranch(
  path: string,
  settings: SessionSettings,
  threads: number,
): Promise<{ ok: true; branch: UnetBranch } | { ok: false; message: string }> {
  try {
    return { ok: true, branch: await UnetBranch.open(path, { ...settings, intraOpNumThreads: threads }) };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/** Text encoder on one prompt: per-token states [T×D] (what keys carry) and the pooled text vector if any. */
export async function encodeText(
  model: Pick<Model, 'shapes' | 'tokenizer' | 'text'>,
  prompt: string,
): Promise<{ hidden: Float32Array; textEmbeds: Float32Array | null }> {
  const { tokens, textIdsType, textEmbedsOutput } = model.shapes;
  const ids = tokenize(model.tokenizer, [prompt], tokens, textIdsType);
  const feeds = { input_ids: new ort.Tensor(textIdsType, ids, [1, tokens]) };
  const out = await model.text.session.run(feeds);
  const hidden = out.last_hidden_state.data as Float32Array;
  if (hidden.length !== tokens * model.shapes.hidden) {
    throw new RenderInputError(
      `text encoder returned ${hidden.length} values, expected ${tokens}×${model.shapes.hidden}`,
    );
  }
  return {
    hidden: Float32Array.from(hidden),
    textEmbeds: textEmbedsOutput ? Float32Array.from(out[textEmbedsOutput].data as Float32Array) : null,
  };
}

export interface DecodedImage {
  /** float CHW in [-1, 1] as the decoder returned it (unclamped). */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** VAE decode of `batch` latents (already in the model's latent space; divided by the scaling here). */
export async function decodeLatents(
  model: Pick<Model, 'shapes' | 'folder' | 'vaeDecoder'>,
  latents: Float32Array,
  batch: number,
): Promise<DecodedImage> {
  const [c, h, w] = model.shapes.latent;
  const scale = model.folder.latentScaling;
  const scaled = scale === 1 ? latents : latents.map((v) => v / scale);
  const out = await model.vaeDecoder.session.run({
    latent_sample: new ort.Tensor('float32', scaled, [batch, c, h, w]),
  });
  const sample = out.sample;
  const [, ch, oh, ow] = sample.dims as number[];
  return { data: sample.data as Float32Array, channels: ch, height: oh, width: ow };
}
