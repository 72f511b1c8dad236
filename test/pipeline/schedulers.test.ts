import { describe, expect, it } from 'vitest';
import { alphasCumprod } from '../../pipeline/schedulers/betas.ts';
import { parseSchedulerConfig, SchedulerConfigError } from '../../pipeline/schedulers/config.ts';
import { createScheduler } from '../../pipeline/schedulers/index.ts';

// Stable Diffusion 1.x / 2.x training schedule, as their scheduler_config.json files have it.
const SD = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000 };
const noNoise = () => new Float32Array(0);

describe('beta schedule', () => {
  it("matches diffusers' SD tables (alphas_cumprod ends, Euler's well-known sigma range)", () => {
    const ac = alphasCumprod(parseSchedulerConfig(SD));
    expect(ac[0]).toBeCloseTo(0.99915, 6);
    expect(ac[999]).toBeCloseTo(0.00466, 5);
    // sigma_max 14.6146 and sigma_min 0.0292 are the values k-diffusion/diffusers print for SD
    expect(Math.sqrt((1 - ac[999]) / ac[999])).toBeCloseTo(14.6146, 3);
    expect(Math.sqrt((1 - ac[0]) / ac[0])).toBeCloseTo(0.0292, 4);
  });
});

describe('timesteps', () => {
  it('DDIM leading + steps_offset 1, 50 steps: 981, 961, …, 1', () => {
    const s = createScheduler({ ...SD, _class_name: 'DDIMScheduler', steps_offset: 1 }, 50);
    expect(s.timesteps).toHaveLength(50);
    expect(s.timesteps.slice(0, 3)).toEqual([981, 961, 941]);
    expect(s.timesteps.at(-1)).toBe(1);
    expect(s.initNoiseSigma).toBe(1);
  });

  it('PNDM (SD 1.5 config), 50 steps: 51 UNet calls with 961 repeated, as a traced diffusers run shows', () => {
    const s = createScheduler(
      { ...SD, _class_name: 'PNDMScheduler', steps_offset: 1, skip_prk_steps: true, set_alpha_to_one: false },
      50,
    );
    expect(s.timesteps).toHaveLength(51);
    expect(s.timesteps.slice(0, 4)).toEqual([981, 961, 961, 941]);
    expect(s.timesteps.slice(-2)).toEqual([21, 1]);
  });

  it('DDIM trailing, 4 steps: 999, 749, 499, 249', () => {
    expect(createScheduler({ ...SD, _class_name: 'DDIMScheduler', timestep_spacing: 'trailing' }, 4).timesteps).toEqual(
      [999, 749, 499, 249],
    );
  });

  it('LCM, 4 steps of 50 original: 999, 759, 499, 259', () => {
    expect(createScheduler({ ...SD, _class_name: 'LCMScheduler' }, 4, { noiseFor: noNoise }).timesteps).toEqual([
      999, 759, 499, 259,
    ]);
  });

  it('Euler linspace (SD default): starts at 999 with init sigma = sigma_max; leading adds 1 in quadrature', () => {
    const lin = createScheduler({ ...SD, _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'linspace' }, 50);
    expect(lin.timesteps[0]).toBe(999);
    expect(lin.timesteps[1]).toBeCloseTo(978.6122, 3);
    expect(lin.initNoiseSigma).toBeCloseTo(14.6146, 3);
    const lead = createScheduler(
      { ...SD, _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'leading', steps_offset: 1 },
      50,
    );
    expect(lead.timesteps[0]).toBe(981);
    const s981 = Math.sqrt(
      (1 - alphasCumprod(parseSchedulerConfig(SD))[981]) / alphasCumprod(parseSchedulerConfig(SD))[981],
    );
    expect(lead.initNoiseSigma).toBeCloseTo(Math.sqrt(s981 * s981 + 1), 4);
  });

  it('Euler trailing, 1 step (SD-Turbo): one call at 999 straight to sigma 0', () => {
    const s = createScheduler({ ...SD, _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing' }, 1);
    expect(s.timesteps).toEqual([999]);
    // with the exact noise as the model output, a single Euler step lands on x0
    const x0 = 0.25;
    const eps = -1.5;
    const sigma = s.initNoiseSigma;
    const x = new Float32Array([x0 + sigma * eps]);
    const out = s.step(new Float32Array([eps]), 0, x);
    expect(out[0]).toBeCloseTo(x0, 5);
  });
});

describe('step math', () => {
  const ac = alphasCumprod(parseSchedulerConfig(SD));

  it('DDIM (eta 0): with the true noise, x_t moves to sqrt(a_prev)·x0 + sqrt(1 − a_prev)·eps exactly', () => {
    const s = createScheduler({ ...SD, _class_name: 'DDIMScheduler', steps_offset: 1, set_alpha_to_one: false }, 10);
    const t = s.timesteps[3];
    const prev = s.timesteps[4];
    const x0 = 0.7;
    const eps = 0.3;
    const x = Math.sqrt(ac[t]) * x0 + Math.sqrt(1 - ac[t]) * eps;
    const out = s.step(new Float32Array([eps]), 3, new Float32Array([x]));
    expect(out[0]).toBeCloseTo(Math.sqrt(ac[prev]) * x0 + Math.sqrt(1 - ac[prev]) * eps, 5);
  });

  it('DDIM v_prediction recovers the same x0 as epsilon for the same underlying noise', () => {
    const base = { ...SD, _class_name: 'DDIMScheduler', steps_offset: 1 };
    const e = createScheduler({ ...base, prediction_type: 'epsilon' }, 10);
    const v = createScheduler({ ...base, prediction_type: 'v_prediction' }, 10);
    const t = e.timesteps[2];
    const x0 = -0.4;
    const eps = 1.1;
    const x = Math.sqrt(ac[t]) * x0 + Math.sqrt(1 - ac[t]) * eps;
    const vTarget = Math.sqrt(ac[t]) * eps - Math.sqrt(1 - ac[t]) * x0;
    const a = e.step(new Float32Array([eps]), 2, new Float32Array([x]));
    const b = v.step(new Float32Array([vTarget]), 2, new Float32Array([x]));
    expect(b[0]).toBeCloseTo(a[0], 5);
  });

  it('PNDM: the first step is plain DDIM-like (counter 0) and later steps use the multistep history', () => {
    const s = createScheduler(
      { ...SD, _class_name: 'PNDMScheduler', steps_offset: 1, skip_prk_steps: true, set_alpha_to_one: false },
      5,
    );
    const x = new Float32Array([1]);
    const out0 = s.step(new Float32Array([0.5]), 0, x);
    // formula (9) of the PNDM paper with eps = 0.5
    const t = s.timesteps[0];
    const p = t - 200;
    const a = ac[t];
    const ap = ac[p];
    const expected = Math.sqrt(ap / a) * 1 - ((ap - a) * 0.5) / (a * Math.sqrt(1 - ap) + Math.sqrt(a * (1 - a) * ap));
    expect(out0[0]).toBeCloseTo(expected, 5);
    expect(() => s.step(new Float32Array([0.5]), 2, x)).toThrow(/in order/);
  });

  it('is a pure function of its inputs: the same calls give the same bits', () => {
    const run = () => {
      const s = createScheduler({ ...SD, _class_name: 'PNDMScheduler', steps_offset: 1, skip_prk_steps: true }, 6);
      let x: Float32Array = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i));
      for (let i = 0; i < s.timesteps.length; i++)
        x = s.step(
          x.map((v) => v * 0.9),
          i,
          x,
        );
      return Buffer.from(x.buffer).toString('hex');
    };
    expect(run()).toBe(run());
  });
});

describe('DPM-Solver++ 2M (DPMSolverMultistepScheduler)', () => {
  const dpm = (extra: Record<string, unknown>, steps: number) =>
    createScheduler(
      { ...SD, _class_name: 'DPMSolverMultistepScheduler', prediction_type: 'v_prediction', ...extra },
      steps,
    );
  const ac = alphasCumprod(parseSchedulerConfig(SD));
  /** Drives a sampler with `model(x, t)` from `x` and returns the final sample. */
  const sample = (s: ReturnType<typeof dpm>, x: Float32Array, model: (x: Float32Array, t: number) => Float32Array) => {
    let cur: Float32Array = x.map((v) => v * s.initNoiseSigma);
    s.timesteps.forEach((t, i) => {
      cur = s.step(model(s.scaleModelInput(cur, i), t), i, cur);
    });
    return cur;
  };

  it("timesteps: 'trailing' as DDIM's; 'linspace' (its default) and 'leading' split steps + 1 points", () => {
    expect(dpm({ timestep_spacing: 'trailing' }, 4).timesteps).toEqual([999, 749, 499, 249]);
    expect(dpm({}, 4).timesteps).toEqual([999, 749, 500, 250]);
    expect(dpm({ timestep_spacing: 'leading', steps_offset: 1 }, 4).timesteps).toEqual([801, 601, 401, 201]);
    expect(dpm({}, 4).initNoiseSigma).toBe(1);
  });

  it('order 1 ending at sigma_min is DDIM (set_alpha_to_one false) step for step, as the DPM-Solver paper shows', () => {
    const model = (x: Float32Array, t: number) => x.map((v, i) => 0.6 * v - 0.2 + 0.1 * Math.sin(i + t / 100));
    const x = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i * 1.7));
    const trailing = { timestep_spacing: 'trailing', set_alpha_to_one: false };
    const ddim = createScheduler(
      { ...SD, ...trailing, _class_name: 'DDIMScheduler', prediction_type: 'v_prediction' },
      8,
    );
    const one = dpm({ ...trailing, solver_order: 1, final_sigmas_type: 'sigma_min' }, 8);
    const a = sample(ddim, x, model);
    const b = sample(one, x, model);
    for (let i = 0; i < x.length; i++) expect(b[i]).toBeCloseTo(a[i], 4);
  });

  it('with an exact denoiser (all data at x0) both orders land on x0, and order 2 differs from order 1 otherwise', () => {
    const x0 = Float32Array.from([0.5, -1.25, 2, 0]);
    const exact = (x: Float32Array, t: number) =>
      x.map((v, i) => {
        const eps = (v - Math.sqrt(ac[t]) * x0[i]) / Math.sqrt(1 - ac[t]);
        return Math.sqrt(ac[t]) * eps - Math.sqrt(1 - ac[t]) * x0[i];
      });
    const noise = Float32Array.from([1.1, -0.3, 0.7, -2]);
    for (const order of [1, 2]) {
      const out = sample(dpm({ timestep_spacing: 'trailing', solver_order: order }, 6), noise, exact);
      for (let i = 0; i < 4; i++) expect(out[i]).toBeCloseTo(x0[i], 4);
    }
    const drift = (x: Float32Array) => x.map((v) => 0.8 * v + 0.3);
    const o1 = sample(dpm({ timestep_spacing: 'trailing', solver_order: 1 }, 6), noise, drift);
    const o2 = sample(dpm({ timestep_spacing: 'trailing', solver_order: 2 }, 6), noise, drift);
    expect(Math.abs(o1[0] - o2[0])).toBeGreaterThan(1e-3);
  });

  it('keeps history, so it runs in index order only', () => {
    const s = dpm({ timestep_spacing: 'trailing' }, 4);
    const x = new Float32Array([1]);
    s.step(new Float32Array([0.5]), 0, x);
    expect(() => s.step(new Float32Array([0.5]), 2, x)).toThrow(/in order/);
  });
});

describe('config', () => {
  it('refuses settings it does not implement instead of ignoring them', () => {
    expect(() => parseSchedulerConfig({ ...SD, use_karras_sigmas: true })).toThrow(SchedulerConfigError);
    expect(() => parseSchedulerConfig({ ...SD, prediction_type: 'sample' })).toThrow(/prediction_type/);
    expect(() => createScheduler({ ...SD, _class_name: 'HeunDiscreteScheduler' }, 4)).toThrow(/not supported/);
    for (const bad of [{ algorithm_type: 'sde-dpmsolver++' }, { solver_type: 'heun' }, { solver_order: 3 }]) {
      expect(() => createScheduler({ ...SD, _class_name: 'DPMSolverMultistepScheduler', ...bad }, 4)).toThrow(
        /not supported/,
      );
    }
  });
});

describe('x0 estimates (search ranks candidates on them part-way)', () => {
  const ac = alphasCumprod(parseSchedulerConfig(SD));
  const x0 = 0.35;
  const eps = -0.8;

  it('DDIM, DPM-Solver++ and LCM recover x0 exactly from the true noise, without moving their state', () => {
    for (const className of ['DDIMScheduler', 'DPMSolverMultistepScheduler']) {
      const s = createScheduler({ ...SD, _class_name: className, timestep_spacing: 'trailing' }, 8);
      const t = s.timesteps[2];
      const x = new Float32Array([Math.sqrt(ac[t]) * x0 + Math.sqrt(1 - ac[t]) * eps]);
      expect(s.originalSample?.(new Float32Array([eps]), 2, x)[0]).toBeCloseTo(x0, 5);
    }
    // DPM-Solver runs in order: an estimate at step 2 must not count as a step
    const dpm = createScheduler({ ...SD, _class_name: 'DPMSolverMultistepScheduler' }, 4);
    dpm.originalSample?.(new Float32Array([eps]), 2, new Float32Array([1]));
    expect(() => dpm.step(new Float32Array([eps]), 0, new Float32Array([1]))).not.toThrow();
    // LCM's estimate is what its last step returns
    const lcm = createScheduler({ ...SD, _class_name: 'LCMScheduler', original_inference_steps: 50 }, 4, {
      noiseFor: () => new Float32Array([0]),
    });
    const x = new Float32Array([0.9]);
    expect(lcm.originalSample?.(new Float32Array([eps]), 3, x)[0]).toBe(lcm.step(new Float32Array([eps]), 3, x)[0]);
  });

  it('Euler recovers x0 from its sigma-scaled sample; PNDM offers no estimate', () => {
    const s = createScheduler({ ...SD, _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing' }, 4);
    const sigma = s.initNoiseSigma; // trailing: the first step's sigma
    expect(s.originalSample?.(new Float32Array([eps]), 0, new Float32Array([x0 + sigma * eps]))[0]).toBeCloseTo(x0, 5);
    const pndm = createScheduler({ ...SD, _class_name: 'PNDMScheduler', skip_prk_steps: true }, 4);
    expect(pndm.originalSample).toBeUndefined();
  });
});
