import * as ort from 'onnxruntime-node';
import { RenderInputError } from '../errors.ts';
import type { Model } from '../model/types.ts';

/**
 * The VAE encoder: an 8-bit RGB picture of the model's image size (HWC) → its latent [C×H×W], in the model's latent
 * space (multiplied by the scaling factor, as decodeLatents divides it). The encoder's output is its posterior's
 * mean or mode (diffusers' ONNX export): deterministic.
 */
export async function encodePicture(model: Model, rgb: Uint8Array): Promise<Float32Array> {
  const encoder = await model.vaeEncoder();
  if (!encoder) throw new RenderInputError(`${model.name} has no vae_encoder: it cannot find pictures`);
  const [height, width] = model.shapes.imageSize as [number, number];
  const plane = height * width;
  if (rgb.length !== plane * 3)
    throw new RenderInputError(`picture has ${rgb.length} values, expected ${width}×${height}×3`);
  const chw = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) chw[ch * plane + p] = (rgb[p * 3 + ch] / 255) * 2 - 1;
  const out = await encoder.session.run({ sample: new ort.Tensor('float32', chw, [1, 3, height, width]) });
  const latent = out.latent_sample.data as Float32Array;
  const [c, h, w] = model.shapes.latent;
  if (latent.length !== c * h * w)
    throw new RenderInputError(`vae_encoder returned ${latent.length} values, the UNet takes ${c}×${h}×${w}`);
  const scale = model.folder.latentScaling;
  return latent.map((v) => v * scale);
}
