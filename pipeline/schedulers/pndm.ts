import { alphasCumprod, finalAlphaCumprod } from './betas.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler } from './types.ts';

/**
 * diffusers' PNDMScheduler in its PLMS form (skip_prk_steps, what SD 1.x ships): a linear multistep method over the
 * last four UNet outputs. Like diffusers it calls the UNet steps + 1 times (the second-to-last timestep is repeated
 * to warm up the multistep history). Deterministic by construction.
 */
export function createPndm(config: SchedulerConfig, steps: number, skipPrkSteps = true): Scheduler {
  if (!skipPrkSteps)
    throw new RangeError('PNDMScheduler with skip_prk_steps: false (Runge-Kutta warm-up) is not supported');
  const n = config.numTrainTimesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > n)
    throw new RangeError(`steps must be an integer in 1..${n}, got ${steps}`);
  const ac = alphasCumprod(config);
  const finalAlpha = finalAlphaCumprod(config, ac);
  const ratio = Math.floor(n / steps);
  const base: number[] = [];
  for (let i = 0; i < steps; i++) base.push(i * ratio + config.stepsOffset);
  // diffusers: concat(_timesteps[:-1], _timesteps[-2:-1], _timesteps[-1:])[::-1]
  const timesteps = [...base.slice(0, -1), ...base.slice(-2, -1), ...base.slice(-1)].reverse();
  const ets: Float32Array[] = [];
  let curSample: Float32Array | null = null;
  let counter = 0;

  function prevSample(sample: Float32Array, t: number, prevT: number, eps: Float32Array): Float32Array {
    const a = ac[t];
    const aPrev = prevT >= 0 ? ac[prevT] : finalAlpha;
    const b = 1 - a;
    const bPrev = 1 - aPrev;
    const sampleCoeff = Math.sqrt(aPrev / a);
    const denom = a * Math.sqrt(bPrev) + Math.sqrt(a * b * aPrev);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const e = config.predictionType === 'v_prediction' ? Math.sqrt(a) * eps[i] + Math.sqrt(b) * sample[i] : eps[i];
      out[i] = sampleCoeff * sample[i] - ((aPrev - a) * e) / denom;
    }
    return out;
  }

  return {
    name: 'PNDMScheduler',
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, index, sample) {
      if (index !== counter)
        throw new RangeError(`PNDM steps must run in order: expected index ${counter}, got ${index}`);
      let t = timesteps[index];
      let prevT = t - ratio;
      if (counter !== 1) {
        if (ets.length > 3) ets.shift();
        ets.push(modelOutput);
      } else {
        prevT = t;
        t = t + ratio;
      }
      let eps: Float32Array;
      let x = sample;
      const m = ets.length;
      if (m === 1 && counter === 0) {
        eps = modelOutput;
        curSample = sample;
      } else if (m === 1 && counter === 1) {
        eps = combine([modelOutput, ets[0]], [0.5, 0.5]);
        x = curSample as Float32Array;
        curSample = null;
      } else if (m === 2) {
        eps = combine([ets[1], ets[0]], [3 / 2, -1 / 2]);
      } else if (m === 3) {
        eps = combine([ets[2], ets[1], ets[0]], [23 / 12, -16 / 12, 5 / 12]);
      } else {
        eps = combine([ets[3], ets[2], ets[1], ets[0]], [55 / 24, -59 / 24, 37 / 24, -9 / 24]);
      }
      counter++;
      return prevSample(x, t, prevT, eps);
    },
  };
}

function combine(arrays: Float32Array[], weights: number[]): Float32Array {
  const out = new Float32Array(arrays[0].length);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < arrays.length; k++) s += weights[k] * arrays[k][i];
    out[i] = s;
  }
  return out;
}
