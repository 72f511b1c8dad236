import { join } from 'node:path';
import { encodeText } from '../../pipeline/model/text-encoder.ts';
import type { Model } from '../../pipeline/model/types.ts';
import { encodeModelKey } from '../../pipeline/render/keys.ts';
import { SeededRandom } from '../../pipeline/render/prng.ts';

export const TINY_SD15 = join(import.meta.dirname, '..', 'fixtures', 'tiny-sd15');

/** A key for `model` with the prompt's text states, a seeded Gaussian latent and `steps` steps. */
export async function keyFor(model: Model, prompt: string, seed: number, steps: number): Promise<string> {
  const { hidden } = await encodeText(model, prompt);
  const [c, h, w] = model.shapes.latent;
  return encodeModelKey(model, { steps, embedding: hidden, latent: new SeededRandom(seed).normals(c * h * w) });
}

export const TINY_EMOJI = join(import.meta.dirname, '..', 'fixtures', 'tiny-emoji');

/** The shapes of the default model's contract (docs/contracts.md), which tiny-emoji copies. */
export const EMOJI_CONTRACT_SHAPES = {
  tokens: 16,
  hidden: 64,
  textIdsType: 'int64',
  latent: [4, 16, 16],
  imageSize: [64, 64],
} as const;
