import { alphasCumprod, finalAlphaCumprod } from './betas.ts';
import type { SchedulerConfig } from './config.ts';
import { type Scheduler, splitPrediction } from './types.ts';

/**
 * diffusers' LCMScheduler (latent consistency models). Between steps LCM re-noises its estimate; diffusers draws that
 * noise at random, which would make the image depend on more than the key. Here the caller supplies it
 * (`noiseFor(index)`, derived from the key), so the key alone still decides the image.
 */
export function createLcm(
  config: SchedulerConfig,
  steps: number,
  noiseFor: (index: number) => Float32Array,
): Scheduler {
  const orig = config.originalInferenceSteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > orig) {
    throw new RangeError(`LCM steps must be an integer in 1..${orig} (original_inference_steps), got ${steps}`);
  }
  const ac = alphasCumprod(config);
  const finalAlpha = finalAlphaCumprod(config, ac);
  const k = Math.floor(config.numTrainTimesteps / orig);
  const origin: number[] = [];
  for (let i = orig; i >= 1; i--) origin.push(i * k - 1);
  const timesteps: number[] = [];
  for (let i = 0; i < steps; i++) timesteps.push(origin[Math.floor((i * origin.length) / steps)]);
  const sigmaData = 0.5;

  /** LCM's denoised estimate at step `index` (per value): the consistency function's skip/out mix of x0 and x. */
  function denoiser(index: number): (out: number, x: number) => number {
    const t = timesteps[index];
    const scaled = t * config.timestepScaling;
    const cSkip = (sigmaData * sigmaData) / (scaled * scaled + sigmaData * sigmaData);
    const cOut = scaled / Math.sqrt(scaled * scaled + sigmaData * sigmaData);
    const r = config.clipSampleRange;
    return (out, x) => {
      let { x0 } = splitPrediction(config.predictionType, out, x, ac[t]);
      if (config.clipSample) x0 = Math.min(r, Math.max(-r, x0));
      return cOut * x0 + cSkip * x;
    };
  }

  return {
    name: 'LCMScheduler',
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, index, sample) {
      const last = index === steps - 1;
      const prevT = last ? timesteps[index] : timesteps[index + 1];
      const aPrev = prevT >= 0 ? ac[prevT] : finalAlpha;
      const noise = last ? null : noiseFor(index);
      const denoised = denoiser(index);
      const out = new Float32Array(sample.length);
      for (let i = 0; i < sample.length; i++) {
        const d = denoised(modelOutput[i], sample[i]);
        out[i] = noise ? Math.sqrt(aPrev) * d + Math.sqrt(1 - aPrev) * noise[i] : d;
      }
      return out;
    },
    originalSample(modelOutput, index, sample) {
      const denoised = denoiser(index);
      return sample.map((x, i) => denoised(modelOutput[i], x));
    },
  };
}
