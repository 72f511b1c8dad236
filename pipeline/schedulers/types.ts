/**
 * A sampler for one render: built for a step count, then driven index by index. Everything is a pure function of
 * the config, the step count and the inputs: no per-step randomness (LCM's re-noising takes its noise from the
 * caller, who derives it from the key).
 */
export interface Scheduler {
  /** diffusers class name it reproduces, recorded in the render settings. */
  readonly name: string;
  /** One entry per UNet call, the value passed as `timestep` (may be fractional for Euler). */
  readonly timesteps: readonly number[];
  /** The key's latent is multiplied by this to give the initial noise. */
  readonly initNoiseSigma: number;
  scaleModelInput(sample: Float32Array, index: number): Float32Array;
  step(modelOutput: Float32Array, index: number, sample: Float32Array): Float32Array;
  /**
   * The finished latent this step's model output predicts (x0), with the same arguments as `step` and no effect on
   * the scheduler's state: search ranks candidates on it before they finish. Absent where a sampler has no
   * one-step estimate (PNDM mixes several steps' outputs).
   */
  originalSample?(modelOutput: Float32Array, index: number, sample: Float32Array): Float32Array;
}

/** Recover x0 and epsilon from a UNet output under the config's parameterisation (alpha = alpha_cumprod at t). */
export function splitPrediction(
  predictionType: 'epsilon' | 'v_prediction',
  out: number,
  x: number,
  alpha: number,
): { x0: number; eps: number } {
  const sa = Math.sqrt(alpha);
  const sb = Math.sqrt(1 - alpha);
  if (predictionType === 'epsilon') return { x0: (x - sb * out) / sa, eps: out };
  return { x0: sa * x - sb * out, eps: sa * out + sb * x };
}
