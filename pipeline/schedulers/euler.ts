import { alphasCumprod, roundHalfEven } from './betas.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler } from './types.ts';

/**
 * diffusers' EulerDiscreteScheduler with s_churn = 0 (so no noise is ever added): sigmas interpolated linearly at
 * the (possibly fractional) timesteps, x_next = x + (x − x0)/sigma · (sigma_next − sigma). SD-Turbo uses it with
 * "trailing" spacing and 1–4 steps.
 */
export function createEuler(config: SchedulerConfig, steps: number): Scheduler {
  const n = config.numTrainTimesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > n)
    throw new RangeError(`steps must be an integer in 1..${n}, got ${steps}`);
  const ac = alphasCumprod(config);
  const trainSigmas = Array.from(ac, (a) => Math.sqrt((1 - a) / a));
  const timesteps: number[] = [];
  if (config.timestepSpacing === 'linspace') {
    for (let i = steps - 1; i >= 0; i--) timesteps.push(Math.fround(steps === 1 ? 0 : ((n - 1) * i) / (steps - 1)));
  } else if (config.timestepSpacing === 'leading') {
    const ratio = Math.floor(n / steps);
    for (let i = steps - 1; i >= 0; i--) timesteps.push(i * ratio + config.stepsOffset);
  } else {
    const ratio = n / steps;
    for (let i = 0; i < steps; i++) timesteps.push(roundHalfEven(n - i * ratio) - 1);
  }
  const sigmas = timesteps.map((t) => Math.fround(interp(t, trainSigmas)));
  sigmas.push(0);
  const maxSigma = Math.max(...sigmas);
  const initNoiseSigma =
    config.timestepSpacing === 'linspace' || config.timestepSpacing === 'trailing'
      ? maxSigma
      : Math.sqrt(maxSigma * maxSigma + 1);
  return {
    name: 'EulerDiscreteScheduler',
    timesteps,
    initNoiseSigma,
    scaleModelInput(sample, index) {
      const s = sigmas[index];
      const c = 1 / Math.sqrt(s * s + 1);
      return sample.map((v) => v * c);
    },
    step(modelOutput, index, sample) {
      const sigma = sigmas[index];
      const dt = sigmas[index + 1] - sigma;
      const out = new Float32Array(sample.length);
      for (let i = 0; i < sample.length; i++) {
        const x = sample[i];
        out[i] = x + ((x - original(modelOutput[i], x, sigma)) / sigma) * dt;
      }
      return out;
    },
    originalSample(modelOutput, index, sample) {
      const sigma = sigmas[index];
      return sample.map((x, i) => original(modelOutput[i], x, sigma));
    },
  };

  /** x0 from the model output at noise level sigma (the sample is x0 + sigma·eps, unscaled). */
  function original(out: number, x: number, sigma: number): number {
    return config.predictionType === 'epsilon'
      ? x - sigma * out
      : out * (-sigma / Math.sqrt(sigma * sigma + 1)) + x / (sigma * sigma + 1);
  }
}

/** np.interp over the integer grid 0..len−1. */
function interp(t: number, table: number[]): number {
  if (t <= 0) return table[0];
  if (t >= table.length - 1) return table[table.length - 1];
  const i = Math.floor(t);
  const f = t - i;
  return table[i] + (table[i + 1] - table[i]) * f;
}
