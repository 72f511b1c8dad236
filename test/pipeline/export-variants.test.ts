import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../pipeline/model/load.ts';
import { renderKey } from '../../pipeline/render/render.ts';
import { keyFor, TINY_SD15 } from './helpers.ts';

// The same UNet weights exported with a float32 scalar timestep instead of int64 [batch] (exports differ).
const VARIANT = join(import.meta.dirname, '..', 'fixtures', 'tiny-sd15-variants', 'unet-float-scalar-timestep.onnx');
const SD = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  set_alpha_to_one: false,
};
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(scheduler: Record<string, unknown>, floatTimestep: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'lob-variant-'));
  dirs.push(dir);
  cpSync(TINY_SD15, dir, { recursive: true });
  if (floatTimestep) copyFileSync(VARIANT, join(dir, 'unet', 'model.onnx'));
  writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify(scheduler));
  return dir;
}

async function render(
  dir: string,
  steps = 4,
): Promise<{ pixels: Buffer; timestepType: string; rank: number; timesteps: number[] }> {
  const model = await loadModel(dir, { intraOpNumThreads: 1 });
  try {
    const r = await renderKey(model, await keyFor(model, 'the red cat', 3, steps));
    return {
      pixels: await sharp(r.png).raw().toBuffer(),
      timestepType: model.shapes.timestepType,
      rank: model.shapes.timestepRank,
      timesteps: r.settings.timesteps,
    };
  } finally {
    await model.release();
  }
}

describe('export conventions', () => {
  it('a float32 scalar timestep and an int64 [batch] one drive the same UNet to the same image', async () => {
    const ddim = { ...SD, _class_name: 'DDIMScheduler', steps_offset: 1 };
    const int64 = await render(folder(ddim, false));
    const float = await render(folder(ddim, true));
    expect([int64.timestepType, int64.rank]).toEqual(['int64', 1]);
    expect([float.timestepType, float.rank]).toEqual(['float32', 0]);
    let max = 0;
    for (let i = 0; i < int64.pixels.length; i++) max = Math.max(max, Math.abs(int64.pixels[i] - float.pixels[i]));
    expect(max).toBeLessThanOrEqual(1);
  });

  it("Euler's fractional timesteps reach a float UNet as they are (SD's linspace spacing)", async () => {
    const euler = await render(
      folder({ ...SD, _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'linspace' }, true),
    );
    expect(euler.timesteps).toEqual([999, 666, 333, 0]);
    const turbo = await render(
      folder({ ...SD, _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing' }, true),
    );
    expect(turbo.timesteps).toEqual([999, 749, 499, 249]);
    expect(turbo.pixels.equals(euler.pixels)).toBe(false);
  });
});
