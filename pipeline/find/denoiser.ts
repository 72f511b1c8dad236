import type { Model } from '../model/types.ts';
import { mixGuidance } from '../render/generate.ts';
import { runUnet } from '../unet/call.ts';

/** The text states and guidance scale one render conditions on: what the UNet's prediction depends on besides x. */
export interface Conditioning {
  embedding: Float32Array;
  /** Guidance's unconditional states (a negative prompt's, or the model's empty prompt). */
  uncond: Float32Array;
  guidance: number;
}

/** The UNet's (guided) prediction at timestep t, exactly as generate() mixes it. */
export async function predict(model: Model, x: Float32Array, t: number, cond: Conditioning): Promise<Float32Array> {
  if (cond.guidance <= 1) return runUnet(model.unet.session, model.shapes, x, t, cond.embedding, 1);
  const out = await model.guided.run(x, t, cond.uncond, cond.embedding);
  return mixGuidance(out.uncond, out.cond, cond.guidance);
}
