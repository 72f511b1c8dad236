import * as ort from 'onnxruntime-node';
import { RenderInputError } from '../errors.ts';
import type { Model } from './types.ts';

/** image_encoder on the 8-bit image (what the PNG shows), mapped back to [-1, 1] CHW. */
export async function imageEmbeds(model: Model, rgb: Uint8Array, height: number, width: number): Promise<Float32Array> {
  return (await imageEmbedsBatch(model, [{ rgb, height, width }]))[0];
}

/** imageEmbeds of several 8-bit images of one size, as one batch. */
export async function imageEmbedsBatch(
  model: Model,
  images: { rgb: Uint8Array; height: number; width: number }[],
): Promise<Float32Array[]> {
  const encoder = await model.imageEncoder();
  if (!encoder) throw new RenderInputError(`${model.name} has no image_encoder`);
  const { height, width } = images[0];
  const plane = height * width;
  const chw = new Float32Array(images.length * 3 * plane);
  images.forEach(({ rgb }, k) => {
    for (let p = 0; p < plane; p++)
      for (let ch = 0; ch < 3; ch++) chw[(k * 3 + ch) * plane + p] = (rgb[p * 3 + ch] / 255) * 2 - 1;
  });
  const out = await encoder.session.run({
    pixel_values: new ort.Tensor('float32', chw, [images.length, 3, height, width]),
  });
  const e = out.image_embeds.data as Float32Array;
  const dim = e.length / images.length;
  return images.map((_, k) => e.slice(k * dim, (k + 1) * dim));
}
