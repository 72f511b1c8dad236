import { RenderCancelledError, RenderInputError } from '../errors.ts';
import type { Model } from '../model/types.ts';
import { decodeLatents } from '../model/vae-decoder.ts';
import { createScheduler, type Scheduler } from '../schedulers/index.ts';
import { runUnet } from '../unet/call.ts';
import { SeededRandom } from './prng.ts';

export interface GenerateInput {
  steps: number;
  /** Conditional text states [T×D] (from the key). */
  embedding: Float32Array;
  /** The key's latent [C×H×W], standard-normal scale; multiplied by the scheduler's init sigma. */
  latent: Float32Array;
  /** Unconditional text states [T×D] (a negative prompt's); default the model's empty-prompt states. */
  negative?: Float32Array;
  guidanceScale: number;
  /** Keep every step's latent (the initial one, then one per step) in `stepLatents`. */
  keepSteps?: boolean;
  /** Checked between UNet calls; returning true aborts with RenderCancelledError. */
  cancelled?: () => boolean;
  onStep?: (done: number, total: number) => void;
}

export interface GenerateOutput {
  scheduler: string;
  timesteps: number[];
  initialNoise: Float32Array;
  finalLatent: Float32Array;
  /** With `keepSteps`: the initial latent and the latent after each step, concatenated ([steps+1, C, H, W]). */
  stepLatents?: Float32Array;
  /** 8-bit RGB, row-major HWC. */
  rgb: Uint8Array;
  width: number;
  height: number;
  timings: { denoiseMs: number; decodeMs: number; unetCalls: number };
}

/**
 * Key contents → image. Guidance: scale > 1 runs the unconditional and conditional branches (model.guided: as one
 * batch of 2, or in parallel on two threads with the same bits) and mixes uncond + s·(cond − uncond); scale ≤ 1 runs
 * the conditional branch alone, diffusers' rule (`do_classifier_free_guidance = guidance_scale > 1`).
 */
export async function generate(model: Model, input: GenerateInput): Promise<GenerateOutput> {
  return Sampling.start(model, input).finish();
}

/**
 * One render driven step by step, so that search can look at a candidate part-way (`preview`) and drop it before
 * paying for the rest. Running it to the end in one go or in pieces gives the same bits: each step depends only on
 * the previous one.
 */
export class Sampling {
  readonly total: number;
  private done = 0;
  private x: Float32Array;
  private last: { eps: Float32Array; index: number; sample: Float32Array } | null = null;
  private readonly stepLatents: Float32Array | undefined;
  private denoiseMs = 0;
  private unetCalls = 0;

  private constructor(
    private readonly model: Model,
    private readonly input: GenerateInput,
    private readonly scheduler: Scheduler,
    private readonly uncond: Float32Array,
    private readonly initialNoise: Float32Array,
  ) {
    this.total = scheduler.timesteps.length;
    this.x = initialNoise;
    this.stepLatents = input.keepSteps ? new Float32Array((this.total + 1) * initialNoise.length) : undefined;
    this.stepLatents?.set(initialNoise, 0);
  }

  /** Checks the input against the model and builds the sampler; runs no UNet call yet. */
  static start(model: Model, input: GenerateInput): Sampling {
    const [c, h, w] = model.shapes.latent;
    const n = c * h * w;
    const { tokens, hidden } = model.shapes;
    if (input.latent.length !== n)
      throw new RenderInputError(`latent has ${input.latent.length} values, the model needs ${c}×${h}×${w}`);
    if (input.embedding.length !== tokens * hidden) {
      throw new RenderInputError(`embedding has ${input.embedding.length} values, the model needs ${tokens}×${hidden}`);
    }
    const uncond = input.negative ?? model.uncond;
    if (uncond.length !== tokens * hidden)
      throw new RenderInputError(`negative embedding has ${uncond.length} values, the model needs ${tokens}×${hidden}`);
    // LCM re-noises between steps; its noise comes from the key's latent so nothing outside the key matters
    const noiseFor = (i: number) =>
      SeededRandom.fromHash(
        'lcm-noise',
        new Uint8Array(input.latent.buffer, input.latent.byteOffset, input.latent.byteLength),
        String(i),
      ).normals(n);
    const scheduler = createScheduler(model.folder.schedulerConfig, input.steps, { noiseFor });
    const initialNoise = input.latent.map((v) => v * scheduler.initNoiseSigma);
    return new Sampling(model, input, scheduler, uncond, initialNoise);
  }

  /** Whether `preview` can say anything for this sampler (every one but PNDM). */
  get canPreview(): boolean {
    return this.scheduler.originalSample !== undefined;
  }

  /** Runs UNet steps until `until` of `total` are done. */
  async advance(until: number): Promise<void> {
    const { model, input, scheduler } = this;
    const g = input.guidanceScale;
    const t0 = performance.now();
    for (let i = this.done; i < Math.min(until, this.total); i++) {
      if (input.cancelled?.()) throw new RenderCancelledError();
      const t = scheduler.timesteps[i];
      const xIn = scheduler.scaleModelInput(this.x, i);
      let eps: Float32Array;
      if (!(g > 1)) {
        eps = await runUnet(model.unet.session, model.shapes, xIn, t, input.embedding, 1);
        this.unetCalls++;
      } else {
        const out = await model.guided.run(xIn, t, this.uncond, input.embedding);
        this.unetCalls += out.calls;
        eps = mixGuidance(out.uncond, out.cond, g);
      }
      this.last = { eps, index: i, sample: this.x };
      this.x = scheduler.step(eps, i, this.x);
      this.done = i + 1;
      this.stepLatents?.set(this.x, this.done * this.x.length);
      input.onStep?.(this.done, this.total);
    }
    this.denoiseMs += performance.now() - t0;
  }

  /** The finished latent that the last step predicts (the sampler's x0 estimate); null before the first step. */
  preview(): Float32Array | null {
    const { last, scheduler } = this;
    if (!last || !scheduler.originalSample) return null;
    return scheduler.originalSample(last.eps, last.index, last.sample);
  }

  /** Runs the remaining steps, then decodes the latent to 8-bit RGB. */
  async finish(): Promise<GenerateOutput> {
    await this.advance(this.total);
    if (this.input.cancelled?.()) throw new RenderCancelledError();
    const t1 = performance.now();
    const img = await decodeLatents(this.model, this.x, 1);
    const rgb = toRgb8(img.data, img.channels, img.height, img.width);
    return {
      scheduler: this.scheduler.name,
      timesteps: [...this.scheduler.timesteps],
      initialNoise: this.initialNoise,
      finalLatent: this.x,
      ...(this.stepLatents && { stepLatents: this.stepLatents }),
      rgb,
      width: img.width,
      height: img.height,
      timings: { denoiseMs: this.denoiseMs, decodeMs: performance.now() - t1, unetCalls: this.unetCalls },
    };
  }
}

/** Classifier-free guidance: uncond + s·(cond − uncond). */
export function mixGuidance(uncond: Float32Array, cond: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(cond.length);
  for (let i = 0; i < out.length; i++) out[i] = uncond[i] + scale * (cond[i] - uncond[i]);
  return out;
}

/** [-1, 1] CHW floats → 8-bit RGB HWC, as diffusers' postprocess: (x/2 + 0.5) clamped, ×255, round half to even. */
export function toRgb8(data: Float32Array, channels: number, height: number, width: number): Uint8Array {
  if (channels !== 3) throw new RenderInputError(`VAE decoder returned ${channels} channels, expected 3`);
  const plane = height * width;
  const out = new Uint8Array(plane * 3);
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0; p < plane; p++) {
      const v = Math.min(1, Math.max(0, data[ch * plane + p] / 2 + 0.5)) * 255;
      const f = Math.floor(v);
      const d = v - f;
      out[p * 3 + ch] = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
    }
  }
  return out;
}
