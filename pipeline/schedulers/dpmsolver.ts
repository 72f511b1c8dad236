import { alphasCumprod, discreteTimesteps, roundHalfEven } from './betas.ts';
import { type SchedulerConfig, SchedulerConfigError } from './config.ts';
import type { Scheduler } from './types.ts';

/** The DPMSolverMultistepScheduler settings this sampler reproduces (diffusers' defaults). */
export interface DpmSolverOptions {
  /** 1 (DDIM-like) or 2 (DPM-Solver++ 2M). */
  solverOrder: 1 | 2;
  /** The last step goes to sigma 0 ('zero') or to the smallest training sigma ('sigma_min'). */
  finalSigmasType: 'zero' | 'sigma_min';
  /** Use first order on the last step (and second order on the one before) when there are fewer than 15 steps. */
  lowerOrderFinal: boolean;
  eulerAtFinal: boolean;
}

/** Reads DPMSolverMultistepScheduler's own keys; settings other than deterministic DPM-Solver++ (midpoint) are refused. */
export function dpmSolverOptions(raw: Record<string, unknown>): DpmSolverOptions {
  const need = (key: string, allowed: readonly unknown[], fallback: unknown) => {
    const v = raw[key] ?? fallback;
    if (!allowed.includes(v))
      throw new SchedulerConfigError(
        `scheduler_config.json: "${key}": ${JSON.stringify(v)} is not supported (supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')})`,
      );
    return v;
  };
  need('algorithm_type', ['dpmsolver++'], 'dpmsolver++');
  need('solver_type', ['midpoint'], 'midpoint');
  need('variance_type', [null], null);
  if (raw.lambda_min_clipped !== undefined && raw.lambda_min_clipped !== null && raw.lambda_min_clipped !== '-inf')
    throw new SchedulerConfigError('scheduler_config.json: "lambda_min_clipped" is not supported');
  return {
    solverOrder: need('solver_order', [1, 2], 2) as 1 | 2,
    finalSigmasType: need('final_sigmas_type', ['zero', 'sigma_min'], 'zero') as 'zero' | 'sigma_min',
    lowerOrderFinal: need('lower_order_final', [true, false], true) as boolean,
    eulerAtFinal: need('euler_at_final', [true, false], false) as boolean,
  };
}

/** DPMSolverMultistepScheduler.set_timesteps: "trailing" as DDIM's; "leading" and "linspace" split n + 1 points. */
export function dpmTimesteps(config: SchedulerConfig, steps: number): number[] {
  const n = config.numTrainTimesteps;
  if (config.timestepSpacing === 'trailing') return discreteTimesteps(config, steps);
  if (!Number.isInteger(steps) || steps < 1 || steps > n)
    throw new RangeError(`steps must be an integer in 1..${n}, got ${steps}`);
  const out: number[] = [];
  for (let i = steps; i >= 1; i--) {
    out.push(
      config.timestepSpacing === 'leading'
        ? i * Math.floor(n / (steps + 1)) + config.stepsOffset
        : roundHalfEven(((n - 1) * i) / steps),
    );
  }
  return out;
}

/**
 * diffusers' DPMSolverMultistepScheduler as DPM-Solver++ (multistep, data prediction, midpoint), deterministic:
 * no noise is ever added. Order 2 reuses the previous step's x0 estimate, so it must be driven in index order
 * (every render builds its own scheduler). Timesteps are the integer DDIM ones; the model input is not scaled and
 * the initial noise is the key's latent as is (init_noise_sigma 1).
 */
export function createDpmSolver(config: SchedulerConfig, steps: number, options: DpmSolverOptions): Scheduler {
  const ac = alphasCumprod(config);
  const timesteps = dpmTimesteps(config, steps);
  const trainSigma = (t: number) => Math.sqrt((1 - ac[t]) / ac[t]);
  // diffusers keeps the sigmas as float32
  const sigmas = timesteps.map((t) => Math.fround(trainSigma(t)));
  sigmas.push(options.finalSigmasType === 'zero' ? 0 : Math.fround(trainSigma(0)));
  const alpha = (s: number) => 1 / Math.sqrt(s * s + 1);
  const lambda = (s: number) => Math.log(alpha(s)) - Math.log(s * alpha(s));
  const n = timesteps.length;
  let previousX0: Float64Array | null = null;
  let nextIndex = 0;

  function dataPrediction(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float64Array {
    const a = alpha(sigma);
    const s = sigma * a;
    const x0 = new Float64Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      x0[i] =
        config.predictionType === 'epsilon' ? (sample[i] - s * modelOutput[i]) / a : a * sample[i] - s * modelOutput[i];
    }
    return x0;
  }

  return {
    name: 'DPMSolverMultistepScheduler',
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, index, sample) {
      if (index !== nextIndex)
        throw new RangeError(`DPM-Solver steps run in order: expected ${nextIndex}, got ${index}`);
      nextIndex++;
      const [sS, sT] = [sigmas[index], sigmas[index + 1]];
      const x0 = dataPrediction(modelOutput, sample, sS);
      const aT = alpha(sT);
      const h = lambda(sT) - lambda(sS);
      // sigma_t / sigma_s of the VP process (sigma · alpha); 0 on a final step to sigma 0, which then returns x0
      const ratioVp = (sT * aT) / (sS * alpha(sS));
      const lowerFinal =
        index === n - 1 &&
        (options.eulerAtFinal || (options.lowerOrderFinal && n < 15) || options.finalSigmasType === 'zero');
      const firstOrder = options.solverOrder === 1 || previousX0 === null || lowerFinal;
      const out = new Float32Array(sample.length);
      const c0 = aT * (Math.exp(-h) - 1);
      if (firstOrder) {
        for (let i = 0; i < sample.length; i++) out[i] = ratioVp * sample[i] - c0 * x0[i];
      } else {
        const prev = previousX0 as Float64Array;
        const h0 = lambda(sS) - lambda(sigmas[index - 1]);
        const r0 = h0 / h;
        for (let i = 0; i < sample.length; i++) {
          const d1 = (x0[i] - prev[i]) / r0;
          out[i] = ratioVp * sample[i] - c0 * x0[i] - 0.5 * c0 * d1;
        }
      }
      previousX0 = x0;
      return out;
    },
    originalSample(modelOutput, index, sample) {
      return Float32Array.from(dataPrediction(modelOutput, sample, sigmas[index]));
    },
  };
}
