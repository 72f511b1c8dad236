import * as ort from 'onnxruntime-node';
import { RenderInputError } from '../errors.ts';
import { tokenize } from './tokenizer.ts';
import type { Model } from './types.ts';

/** Text encoder on one prompt: per-token states [T×D] (what keys carry) and the pooled text vector if any. */
export async function encodeText(
  model: Pick<Model, 'shapes' | 'tokenizer' | 'text'>,
  prompt: string,
): Promise<{ hidden: Float32Array; textEmbeds: Float32Array | null }> {
  const { tokens, textIdsType, textEmbedsOutput } = model.shapes;
  const ids = tokenize(model.tokenizer, [prompt], tokens, textIdsType);
  const feeds = { input_ids: new ort.Tensor(textIdsType, ids, [1, tokens]) };
  const out = await model.text.session.run(feeds);
  const hidden = out.last_hidden_state.data as Float32Array;
  if (hidden.length !== tokens * model.shapes.hidden) {
    throw new RenderInputError(
      `text encoder returned ${hidden.length} values, expected ${tokens}×${model.shapes.hidden}`,
    );
  }
  return {
    hidden: Float32Array.from(hidden),
    textEmbeds: textEmbedsOutput ? Float32Array.from(out[textEmbedsOutput].data as Float32Array) : null,
  };
}
