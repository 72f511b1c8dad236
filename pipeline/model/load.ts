import { statSync } from 'node:fs';
import { loadProfile, type Profile } from '../../keyspace/profile.ts';
import { createProfileRegistry } from '../../keyspace/registry.ts';
import { profileVariants } from '../../keyspace/variant.ts';
import { ModelLoadError } from '../errors.ts';
import { ioSpecs, requireIo } from '../onnx/io-specs.ts';
import {
  type OpenedSession,
  openSession,
  resolveSessionSettings,
  type SessionRequest,
  type SessionSettings,
} from '../onnx/sessions.ts';
import { createScheduler, SchedulerConfigError } from '../schedulers/index.ts';
import { UnetBranch } from '../unet/branch.ts';
import { GuidedUnet } from '../unet/guided.ts';
import { type ModelFolder, modelName, readModelFolder } from './folder.ts';
import { modelProfileJson } from './profile.ts';
import { checkImageEncoder, readShapes } from './shapes.ts';
import { encodeText } from './text-encoder.ts';
import { loadTokenizer } from './tokenizer.ts';
import type { Model, ModelShapes } from './types.ts';
import { decodeLatents } from './vae-decoder.ts';

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

const DEFAULT_SD_STEPS = 20;
const DEFAULT_SD_GUIDANCE = 7.5;

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
    const variants = profileVariants(profile);
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
      negativeProfile: variants.negative,
      fineProfile: variants.fine,
      guidanceProfile: variants.guidance,
      negativeGuidanceProfile: variants.negativeGuidance,
      registry: createProfileRegistry([profile, ...Object.values(variants)].filter((p): p is Profile => p !== null)),
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
