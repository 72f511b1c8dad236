import * as ort from 'onnxruntime-node';
import type { Model } from './types.ts';

export interface DecodedImage {
  /** float CHW in [-1, 1] as the decoder returned it (unclamped). */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** VAE decode of `batch` latents (already in the model's latent space; divided by the scaling here). */
export async function decodeLatents(
  model: Pick<Model, 'shapes' | 'folder' | 'vaeDecoder'>,
  latents: Float32Array,
  batch: number,
): Promise<DecodedImage> {
  const [c, h, w] = model.shapes.latent;
  const scale = model.folder.latentScaling;
  const scaled = scale === 1 ? latents : latents.map((v) => v / scale);
  const out = await model.vaeDecoder.session.run({
    latent_sample: new ort.Tensor('float32', scaled, [batch, c, h, w]),
  });
  const sample = out.sample;
  const [, ch, oh, ow] = sample.dims as number[];
  return { data: sample.data as Float32Array, channels: ch, height: oh, width: ow };
}
