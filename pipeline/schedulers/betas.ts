import type { SchedulerConfig } from './config.ts';

/**
 * alphas_cumprod as diffusers computes it. torch builds betas and their cumulative product in float32, so every
 * intermediate is rounded to float32 here too (Math.fround) to stay within an ulp of diffusers' tables.
 */
export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const n = config.numTrainTimesteps;
  const betas = new Float64Array(n);
  if (config.trainedBetas) {
    if (config.trainedBetas.length !== n)
      throw new RangeError(`trained_betas has ${config.trainedBetas.length} values, expected ${n}`);
    for (let i = 0; i < n; i++) betas[i] = Math.fround(config.trainedBetas[i]);
  } else if (config.betaSchedule === 'linear') {
    for (let i = 0; i < n; i++) betas[i] = Math.fround(linspace(config.betaStart, config.betaEnd, n, i));
  } else if (config.betaSchedule === 'scaled_linear') {
    const a = Math.sqrt(config.betaStart);
    const b = Math.sqrt(config.betaEnd);
    for (let i = 0; i < n; i++) {
      const r = Math.fround(linspace(a, b, n, i));
      betas[i] = Math.fround(r * r);
    }
  } else {
    // squaredcos_cap_v2: Glide's cosine schedule (betas_for_alpha_bar, computed in float64 then cast)
    const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI * 0.5) ** 2;
    for (let i = 0; i < n; i++) betas[i] = Math.fround(Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999));
  }
  const out = new Float64Array(n);
  let acc = 1;
  for (let i = 0; i < n; i++) {
    acc = Math.fround(acc * Math.fround(1 - betas[i]));
    out[i] = acc;
  }
  return out;
}

function linspace(start: number, end: number, n: number, i: number): number {
  return start + ((end - start) * i) / (n - 1);
}

/** alpha_cumprod at the step after the last (diffusers' final_alpha_cumprod). */
export function finalAlphaCumprod(config: SchedulerConfig, ac: Float64Array): number {
  return config.setAlphaToOne ? 1 : ac[0];
}

/** diffusers' DDIM/PNDM/LCM inference timesteps for `steps` steps under the config's spacing (integers, descending). */
export function discreteTimesteps(config: SchedulerConfig, steps: number): number[] {
  const n = config.numTrainTimesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > n)
    throw new RangeError(`steps must be an integer in 1..${n}, got ${steps}`);
  const out: number[] = [];
  if (config.timestepSpacing === 'leading') {
    const ratio = Math.floor(n / steps);
    for (let i = steps - 1; i >= 0; i--) out.push(i * ratio + config.stepsOffset);
  } else if (config.timestepSpacing === 'trailing') {
    const ratio = n / steps;
    for (let i = 0; i < steps; i++) out.push(roundHalfEven(n - i * ratio) - 1);
  } else {
    for (let i = steps - 1; i >= 0; i--) out.push(roundHalfEven(steps === 1 ? 0 : ((n - 1) * i) / (steps - 1)));
  }
  return out;
}

/** numpy's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
