import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelLoadError } from '../errors.ts';
import { type IoSpec, ioSpecs, requireIo } from '../onnx/io-specs.ts';
import type { OpenedSession } from '../onnx/sessions.ts';
import type { ModelFolder } from './folder.ts';
import type { ModelShapes } from './types.ts';

function fixedDim(d: number | string | undefined): number | null {
  return typeof d === 'number' && d > 0 ? d : null;
}

/** The shapes the pipeline feeds, read from the text encoder and UNet sessions; checks their inputs and outputs. */
export function readShapes(
  folder: ModelFolder,
  text: OpenedSession,
  unet: OpenedSession,
  tokenizer: PreTrainedTokenizer,
): ModelShapes {
  const tIn = ioSpecs(text.session, 'input');
  const tOut = ioSpecs(text.session, 'output');
  const ids = requireIo(text.path, tIn, 'input_ids', ['int32', 'int64'], 2);
  const hiddenOut = requireIo(text.path, tOut, 'last_hidden_state', ['float32'], 3);
  const uIn = ioSpecs(unet.session, 'input');
  const sample = requireIo(unet.path, uIn, 'sample', ['float32'], 4);
  const timestep = requireIo(unet.path, uIn, 'timestep', ['int64', 'int32', 'float32']);
  const ehs = requireIo(unet.path, uIn, 'encoder_hidden_states', ['float32'], 3);
  requireIo(unet.path, ioSpecs(unet.session, 'output'), 'out_sample', ['float32'], 4);
  const extra = uIn.filter((s) => !['sample', 'timestep', 'encoder_hidden_states'].includes(s.name));
  if (extra.length) {
    throw new ModelLoadError(
      unet.path,
      `has inputs this pipeline does not drive: ${extra.map((s) => s.name).join(', ')}`,
    );
  }
  if (timestep.shape.length > 1)
    throw new ModelLoadError(unet.path, `"timestep" has rank ${timestep.shape.length}, expected 0 or 1`);

  const maxLen = (tokenizer as unknown as { model_max_length?: number }).model_max_length;
  const tokens = fixedDim(ids.shape[1]) ?? fixedDim(ehs.shape[1]) ?? (maxLen && maxLen < 100_000 ? maxLen : 77);
  const hidden = fixedDim(hiddenOut.shape[2]) ?? fixedDim(ehs.shape[2]);
  if (!hidden) throw new ModelLoadError(text.path, '"last_hidden_state" has no fixed width');
  if (fixedDim(ehs.shape[2]) !== null && ehs.shape[2] !== hidden) {
    throw new ModelLoadError(unet.path, `"encoder_hidden_states" width ${ehs.shape[2]} ≠ text encoder width ${hidden}`);
  }
  const channels = fixedDim(sample.shape[1]) ?? 4;
  const side = folder.unetSampleSize ?? 64;
  const latent: [number, number, number] = [
    channels,
    fixedDim(sample.shape[2]) ?? side,
    fixedDim(sample.shape[3]) ?? side,
  ];
  const names = tOut.map((s) => s.name);
  return {
    tokens,
    hidden,
    textIdsType: ids.type as 'int32' | 'int64',
    latent,
    timestepType: timestep.type as ModelShapes['timestepType'],
    timestepRank: timestep.shape.length as 0 | 1,
    unetBatches: fixedDim(sample.shape[0]) !== 1,
    textEmbedsOutput: names.includes('text_embeds')
      ? 'text_embeds'
      : names.includes('pooler_output')
        ? 'pooler_output'
        : null,
    imageSize: null,
  };
}

/** Checks the image encoder's inputs and outputs, and that it takes images of the size the VAE decodes. */
export function checkImageEncoder(enc: OpenedSession, size: [number, number]): void {
  const spec: IoSpec = requireIo(enc.path, ioSpecs(enc.session, 'input'), 'pixel_values', ['float32'], 4);
  requireIo(enc.path, ioSpecs(enc.session, 'output'), 'image_embeds', ['float32'], 2);
  const [h, w] = [fixedDim(spec.shape[2]), fixedDim(spec.shape[3])];
  if ((h !== null && h !== size[0]) || (w !== null && w !== size[1])) {
    throw new ModelLoadError(enc.path, `"pixel_values" is ${h}×${w} but the VAE decodes ${size[0]}×${size[1]}`);
  }
}
