import * as ort from 'onnxruntime-node';

/** What one UNet call needs to know about the graph's inputs (read from the session at load). */
export interface UnetShapes {
  tokens: number;
  hidden: number;
  /** Latent [C, H, W] (batch excluded). */
  latent: [number, number, number];
  timestepType: 'int64' | 'int32' | 'float32';
  /** Rank of the timestep input: 0 (scalar) or 1 ([batch] or a fixed [1]). */
  timestepRank: 0 | 1;
}

/**
 * One UNet call on `batch` samples [batch×C×H×W] with text states [batch×T×D] at timestep t; returns out_sample.
 * An int timestep input gets the value truncated, as numpy's astype does in diffusers' ONNX pipelines.
 */
export async function runUnet(
  session: ort.InferenceSession,
  shapes: UnetShapes,
  sample: Float32Array,
  t: number,
  states: Float32Array,
  batch: number,
): Promise<Float32Array> {
  const [c, h, w] = shapes.latent;
  const { tokens, hidden, timestepType, timestepRank } = shapes;
  const tShape = timestepRank === 0 ? [] : [batch];
  const count = timestepRank === 0 ? 1 : batch;
  const timestep =
    timestepType === 'int64'
      ? new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(Math.trunc(t))), tShape)
      : timestepType === 'int32'
        ? new ort.Tensor('int32', new Int32Array(count).fill(Math.trunc(t)), tShape)
        : new ort.Tensor('float32', new Float32Array(count).fill(t), tShape);
  const out = await session.run({
    sample: new ort.Tensor('float32', sample, [batch, c, h, w]),
    timestep,
    encoder_hidden_states: new ort.Tensor('float32', states, [batch, tokens, hidden]),
  });
  return out.out_sample.data as Float32Array;
}
