import { parseSchedulerConfig, SchedulerConfigError } from './config.ts';
import { createDdim } from './ddim.ts';
import { createDpmSolver, dpmSolverOptions } from './dpmsolver.ts';
import { createEuler } from './euler.ts';
import { createLcm } from './lcm.ts';
import { createPndm } from './pndm.ts';
import type { Scheduler } from './types.ts';

export { parseSchedulerConfig, type SchedulerConfig, SchedulerConfigError } from './config.ts';
export type { Scheduler } from './types.ts';

export const SUPPORTED_SCHEDULERS = [
  'DDIMScheduler',
  'EulerDiscreteScheduler',
  'PNDMScheduler',
  'LCMScheduler',
  'DPMSolverMultistepScheduler',
] as const;

export interface SchedulerOptions {
  /** LCM's re-noising noise for step `index` (same length as the latent); required only for LCMScheduler. */
  noiseFor?: (index: number) => Float32Array;
}

/** Builds the sampler a `scheduler_config.json` names, for `steps` inference steps. */
export function createScheduler(
  raw: Record<string, unknown>,
  steps: number,
  options: SchedulerOptions = {},
): Scheduler {
  const config = parseSchedulerConfig(raw);
  switch (config.className) {
    case 'DDIMScheduler':
      return createDdim(config, steps);
    case 'EulerDiscreteScheduler':
      return createEuler(config, steps);
    case 'DPMSolverMultistepScheduler':
      return createDpmSolver(config, steps, dpmSolverOptions(raw));
    case 'PNDMScheduler':
      return createPndm(config, steps, raw.skip_prk_steps !== false);
    case 'LCMScheduler': {
      if (!options.noiseFor) throw new SchedulerConfigError('LCMScheduler needs a noise source derived from the key');
      return createLcm(config, steps, options.noiseFor);
    }
    default:
      throw new SchedulerConfigError(
        `scheduler_config.json: _class_name "${config.className}" is not supported (supported: ${SUPPORTED_SCHEDULERS.join(', ')})`,
      );
  }
}
