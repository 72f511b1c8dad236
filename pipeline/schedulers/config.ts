/**
 * The fields of a diffusers `scheduler_config.json` our schedulers read, with diffusers' defaults.
 * Unsupported settings are refused (SchedulerConfigError) rather than silently ignored, so an export never
 * renders with math other than what its config says.
 */
export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

export interface SchedulerConfig {
  className: string;
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: number[] | null;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  setAlphaToOne: boolean;
  clipSample: boolean;
  clipSampleRange: number;
  /** LCM only: the distillation's step count and boundary-condition scale. */
  originalInferenceSteps: number;
  timestepScaling: number;
}

export class SchedulerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerConfigError';
  }
}

const DEFAULT_SPACING: Record<string, TimestepSpacing> = {
  // diffusers' per-class defaults when the config predates `timestep_spacing`
  DDIMScheduler: 'leading',
  PNDMScheduler: 'leading',
  EulerDiscreteScheduler: 'linspace',
  LCMScheduler: 'leading',
  DPMSolverMultistepScheduler: 'linspace',
};

function pick<T>(raw: Record<string, unknown>, key: string, fallback: T, check: (v: unknown) => boolean): T {
  const v = raw[key];
  if (v === undefined || v === null) return fallback;
  if (!check(v))
    throw new SchedulerConfigError(`scheduler_config.json: "${key}" has an invalid value ${JSON.stringify(v)}`);
  return v as T;
}

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown) => typeof v === 'boolean';
const oneOf = (values: readonly string[]) => (v: unknown) => typeof v === 'string' && values.includes(v);

export function parseSchedulerConfig(raw: Record<string, unknown>): SchedulerConfig {
  const className = pick(raw, '_class_name', 'DDIMScheduler', (v) => typeof v === 'string');
  for (const flag of [
    'thresholding',
    'rescale_betas_zero_snr',
    'use_karras_sigmas',
    'use_exponential_sigmas',
    'use_beta_sigmas',
  ]) {
    if (raw[flag] === true) throw new SchedulerConfigError(`scheduler_config.json: "${flag}": true is not supported`);
  }
  if (raw.interpolation_type !== undefined && raw.interpolation_type !== 'linear') {
    throw new SchedulerConfigError(
      `scheduler_config.json: interpolation_type ${JSON.stringify(raw.interpolation_type)} is not supported`,
    );
  }
  const trained = raw.trained_betas;
  if (trained !== undefined && trained !== null && !(Array.isArray(trained) && trained.every(isNum))) {
    throw new SchedulerConfigError('scheduler_config.json: "trained_betas" must be null or an array of numbers');
  }
  return {
    className,
    numTrainTimesteps: pick(raw, 'num_train_timesteps', 1000, (v) => Number.isInteger(v) && (v as number) > 1),
    betaStart: pick(raw, 'beta_start', 0.0001, isNum),
    betaEnd: pick(raw, 'beta_end', 0.02, isNum),
    betaSchedule: pick(raw, 'beta_schedule', 'linear', oneOf(['linear', 'scaled_linear', 'squaredcos_cap_v2'])),
    trainedBetas: (trained as number[] | null | undefined) ?? null,
    predictionType: pick(raw, 'prediction_type', 'epsilon', oneOf(['epsilon', 'v_prediction'])),
    timestepSpacing: pick(
      raw,
      'timestep_spacing',
      DEFAULT_SPACING[className] ?? 'leading',
      oneOf(['leading', 'trailing', 'linspace']),
    ),
    stepsOffset: pick(raw, 'steps_offset', 0, (v) => Number.isInteger(v) && (v as number) >= 0),
    setAlphaToOne: pick(raw, 'set_alpha_to_one', true, isBool),
    clipSample: pick(raw, 'clip_sample', className === 'DDIMScheduler' || className === 'LCMScheduler', isBool),
    clipSampleRange: pick(raw, 'clip_sample_range', 1, isNum),
    originalInferenceSteps: pick(raw, 'original_inference_steps', 50, (v) => Number.isInteger(v) && (v as number) > 0),
    timestepScaling: pick(raw, 'timestep_scaling', 10, isNum),
  };
}
