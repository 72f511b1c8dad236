import { alphasCumprod, discreteTimesteps, finalAlphaCumprod } from './betas.ts';
import type { SchedulerConfig } from './config.ts';
import { type Scheduler, splitPrediction } from './types.ts';

/** diffusers' DDIMScheduler with eta = 0 (deterministic): x_prev = sqrt(a_prev)·x0 + sqrt(1 − a_prev)·eps. */
export function createDdim(config: SchedulerConfig, steps: number): Scheduler {
  const ac = alphasCumprod(config);
  const finalAlpha = finalAlphaCumprod(config, ac);
  const timesteps = discreteTimesteps(config, steps);
  const stride = Math.floor(config.numTrainTimesteps / steps);
  return {
    name: 'DDIMScheduler',
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, index, sample) {
      const t = timesteps[index];
      const prevT = t - stride;
      const a = ac[t];
      const aPrev = prevT >= 0 ? ac[prevT] : finalAlpha;
      const out = new Float32Array(sample.length);
      const r = config.clipSampleRange;
      for (let i = 0; i < sample.length; i++) {
        let { x0, eps } = splitPrediction(config.predictionType, modelOutput[i], sample[i], a);
        if (config.clipSample) {
          x0 = Math.min(r, Math.max(-r, x0));
          // diffusers re-derives epsilon from the clipped x0
          eps = (sample[i] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
        }
        out[i] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps;
      }
      return out;
    },
  };
}
