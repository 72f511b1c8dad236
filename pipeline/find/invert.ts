import { RenderCancelledError } from '../errors.ts';
import type { Model } from '../model/types.ts';
import { parseSchedulerConfig } from '../schedulers/config.ts';
import { type DdimStep, ddimSteps } from '../schedulers/ddim.ts';
import { splitPrediction } from '../schedulers/types.ts';
import { type Conditioning, predict } from './denoiser.ts';

/**
 * A deterministic DDIM step is affine in the sample once the UNet's output is fixed: x_prev = A·x + B·out.
 * (A and B follow from the prediction type; clip_sample, off for every model we ship, is ignored here.)
 */
function stepCoefficients(kind: 'epsilon' | 'v_prediction', s: DdimStep): { A: number; B: number } {
  const land = (out: number, x: number) => {
    const { x0, eps } = splitPrediction(kind, out, x, s.alpha);
    return Math.sqrt(s.alphaPrev) * x0 + Math.sqrt(1 - s.alphaPrev) * eps;
  };
  return { A: land(0, 1), B: land(1, 0) };
}

export interface InversionOptions {
  steps: number;
  /** Fixed-point iterations per step: 0 is plain DDIM inversion (the UNet evaluated at the step's start). */
  iterations: number;
  cancelled?: () => boolean;
}

/**
 * DDIM inversion: the clean latent z0 → the initial noise x_T that DDIM with these steps and conditioning maps back
 * to z0. Each step solves x = (x_prev − B·out(x)) / A by fixed-point iteration from the classic guess out(x_prev),
 * so with enough iterations each step inverts the sampler's own step exactly (guidance included), not an
 * approximation of it.
 */
export async function invertDdim(
  model: Model,
  z0: Float32Array,
  cond: Conditioning,
  options: InversionOptions,
): Promise<{ latent: Float32Array; unetCalls: number }> {
  const config = parseSchedulerConfig(model.folder.schedulerConfig);
  const plan = ddimSteps(config, options.steps);
  let x = z0;
  let unetCalls = 0;
  for (let i = plan.length - 1; i >= 0; i--) {
    const s = plan[i];
    const { A, B } = stepCoefficients(config.predictionType, s);
    const target = x;
    let guess = target;
    for (let k = 0; k <= options.iterations; k++) {
      if (options.cancelled?.()) throw new RenderCancelledError();
      const out = await predict(model, guess, s.t, cond);
      unetCalls += cond.guidance > 1 ? 2 : 1;
      const next = new Float32Array(target.length);
      for (let j = 0; j < next.length; j++) next[j] = (target[j] - B * out[j]) / A;
      guess = next;
    }
    x = guess;
  }
  return { latent: x, unetCalls };
}
