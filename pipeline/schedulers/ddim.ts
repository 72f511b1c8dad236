import { alphasCumprod, discreteTimesteps, finalAlphaCumprod } from './betas.ts';
import type { SchedulerConfig } from './config.ts';
import { type Scheduler, splitPrediction } from './types.ts';

/** One DDIM step: the UNet runs at timestep `t` on a sample at noise level `alpha`; the step lands at `alphaPrev`. */
export interface DdimStep {
  t: number;
  alpha: number;
  alphaPrev: number;
}

/** The alpha_cumprod pairs of each of `steps` DDIM steps, as diffusers' DDIMScheduler walks them. */
export function ddimSteps(config: SchedulerConfig, steps: number): DdimStep[] {
  const ac = alphasCumprod(config);
  const finalAlpha = finalAlphaCumprod(config, ac);
  const stride = Math.floor(config.numTrainTimesteps / steps);
  return discreteTimesteps(config, steps).map((t) => {
    const prevT = t - stride;
    return { t, alpha: ac[t], alphaPrev: prevT >= 0 ? ac[prevT] : finalAlpha };
  });
}

/** diffusers' DDIMScheduler with eta = 0 (deterministic): x_prev = sqrt(a_prev)·x0 + sqrt(1 − a_prev)·eps. */
export function createDdim(config: SchedulerConfig, steps: number): Scheduler {
  const plan = ddimSteps(config, steps);
  return {
    name: 'DDIMScheduler',
    timesteps: plan.map((s) => s.t),
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, index, sample) {
      const { alpha: a, alphaPrev: aPrev } = plan[index];
      const out = new Float32Array(sample.length);
      for (let i = 0; i < sample.length; i++) {
        const { x0, eps } = split(modelOutput[i], sample[i], a);
        out[i] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps;
      }
      return out;
    },
    originalSample(modelOutput, index, sample) {
      const a = plan[index].alpha;
      return sample.map((x, i) => split(modelOutput[i], x, a).x0);
    },
  };

  function split(out: number, x: number, a: number): { x0: number; eps: number } {
    const p = splitPrediction(config.predictionType, out, x, a);
    if (!config.clipSample) return p;
    const r = config.clipSampleRange;
    const x0 = Math.min(r, Math.max(-r, p.x0));
    // diffusers re-derives epsilon from the clipped x0
    return { x0, eps: (x - Math.sqrt(a) * x0) / Math.sqrt(1 - a) };
  }
}
