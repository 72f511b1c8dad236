// The shipped default model (models/emoji/) is complete and consistent with docs/contracts.md.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '..', '..', 'models', 'emoji');
const T = 16;
const D = 64;
const E = 64;
const MAX_BYTES = 40 * 1024 * 1024;
const GRAPHS = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder', 'image_encoder'];
const FILES = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'tokenizer/tokenizer.json',
  'tokenizer/tokenizer_config.json',
  'vae_decoder/config.json',
  'keyspace.json',
  'MODEL_CARD.md',
  ...GRAPHS.map((g) => `${g}/model.onnx`),
];

const readJson = (rel: string) => JSON.parse(readFileSync(join(DIR, rel), 'utf8'));
const session = (g: string) => ort.InferenceSession.create(join(DIR, g, 'model.onnx'));
const f32 = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const i64 = (xs: number[]) => BigInt64Array.from(xs.map((x) => BigInt(x)));
// float32 multiply exactly as torch does it (arange(n, float32) * c), so the deterministic inputs match bit for bit
const maxAbsDiff = (got: Float32Array, want: number[]) => {
  expect(got.length).toBe(want.length);
  return want.reduce((m, v, i) => Math.max(m, Math.abs(got[i] - v)), 0);
};
const mulF32 = (i: number, c: number) => Math.fround(Math.fround(i) * Math.fround(c));

describe('models/emoji folder', () => {
  it('has every file of the diffusers ONNX layout', () => {
    const missing = FILES.filter((f) => !existsSync(join(DIR, f)));
    expect(missing).toEqual([]);
  });

  it('is at most 40 MB in all', () => {
    const total = FILES.reduce((sum, f) => sum + statSync(join(DIR, f)).size, 0);
    expect(total).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('declares a lob block and a DDIM scheduler that match the keyspace', () => {
    const index = readJson('model_index.json');
    expect(index.lob).toMatchObject({ name: 'emoji-ldm', image_size: 64 });
    expect(typeof index.lob.version).toBe('string');
    expect(index.lob.guidance_scale).toBeGreaterThan(1);
    const steps = readJson('keyspace.json').sections.find((s: { kind: string }) => s.kind === 'steps');
    expect(steps.values).toContain(index.lob.default_steps);
    const sched = readJson('scheduler/scheduler_config.json');
    expect(sched).toMatchObject({
      num_train_timesteps: 1000,
      beta_schedule: 'scaled_linear',
      prediction_type: 'v_prediction',
      clip_sample: false,
    });
    expect(['leading', 'trailing', 'linspace']).toContain(sched.timestep_spacing);
    expect(readJson('vae_decoder/config.json').scaling_factor).toBe(1.0);
  });
});

describe('ONNX graphs', () => {
  it('text_encoder: input_ids int64 [B,T] -> last_hidden_state [B,T,D], unit-norm text_embeds [B,E]', async () => {
    const s = await session('text_encoder');
    expect(s.inputNames).toEqual(['input_ids']);
    expect([...s.outputNames].sort()).toEqual(['last_hidden_state', 'text_embeds']);
    for (const b of [1, 3]) {
      const ids = Array.from({ length: b * T }, (_, i) => (i % T < 4 ? 2 + ((i * 7) % 50) : 0));
      const r = await s.run({ input_ids: new ort.Tensor('int64', i64(ids), [b, T]) });
      expect(Array.from(r.last_hidden_state.dims)).toEqual([b, T, D]);
      expect(Array.from(r.text_embeds.dims)).toEqual([b, E]);
      const e = r.text_embeds.data as Float32Array;
      for (let k = 0; k < b; k++) {
        const norm = Math.hypot(...e.subarray(k * E, (k + 1) * E));
        expect(norm).toBeCloseTo(1, 4);
      }
    }
  });

  it('unet: sample, int64 timestep [B], encoder_hidden_states -> out_sample, dynamic batch', async () => {
    const s = await session('unet');
    expect(s.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(s.outputNames).toEqual(['out_sample']);
    for (const b of [1, 2]) {
      const r = await s.run({
        sample: new ort.Tensor(
          'float32',
          f32(b * 1024, (i) => Math.sin(i)),
          [b, 4, 16, 16],
        ),
        timestep: new ort.Tensor('int64', i64(Array(b).fill(500)), [b]),
        encoder_hidden_states: new ort.Tensor(
          'float32',
          f32(b * T * D, (i) => Math.cos(i)),
          [b, T, D],
        ),
      });
      expect(Array.from(r.out_sample.dims)).toEqual([b, 4, 16, 16]);
      expect((r.out_sample.data as Float32Array).every(Number.isFinite)).toBe(true);
    }
  });

  it('vae_decoder maps latents to images in [-1, 1]; vae_encoder maps them back', async () => {
    const dec = await session('vae_decoder');
    const enc = await session('vae_encoder');
    expect(dec.inputNames).toEqual(['latent_sample']);
    expect(dec.outputNames).toEqual(['sample']);
    expect(enc.inputNames).toEqual(['sample']);
    expect(enc.outputNames).toEqual(['latent_sample']);
    const r = await dec.run({
      latent_sample: new ort.Tensor(
        'float32',
        f32(2 * 1024, (i) => Math.sin(i * 0.3)),
        [2, 4, 16, 16],
      ),
    });
    expect(Array.from(r.sample.dims)).toEqual([2, 3, 64, 64]);
    const px = r.sample.data as Float32Array;
    expect(px.every((v) => v >= -1 && v <= 1)).toBe(true);
    const back = await enc.run({ sample: r.sample });
    expect(Array.from(back.latent_sample.dims)).toEqual([2, 4, 16, 16]);
  });

  it('image_encoder: pixel_values [B,3,64,64] -> unit-norm image_embeds [B,E]', async () => {
    const s = await session('image_encoder');
    expect(s.inputNames).toEqual(['pixel_values']);
    expect(s.outputNames).toEqual(['image_embeds']);
    const r = await s.run({
      pixel_values: new ort.Tensor(
        'float32',
        f32(3 * 3 * 4096, (i) => Math.sin(i * 0.01)),
        [3, 3, 64, 64],
      ),
    });
    expect(Array.from(r.image_embeds.dims)).toEqual([3, E]);
    const e = r.image_embeds.data as Float32Array;
    expect(Math.hypot(...e.subarray(0, E))).toBeCloseTo(1, 4);
  });
});

describe('shipped files match the PyTorch weights they were exported from', () => {
  const ref = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'model', 'reference.json'), 'utf8'));

  it('text_encoder gives the PyTorch outputs for the reference captions', async () => {
    const s = await session('text_encoder');
    const ids: number[][] = ref.input_ids;
    const r = await s.run({ input_ids: new ort.Tensor('int64', i64(ids.flat()), [ids.length, T]) });
    const h = r.last_hidden_state.data as Float32Array;
    const e = r.text_embeds.data as Float32Array;
    for (let k = 0; k < ids.length; k++) {
      const first = h.subarray(k * T * D, k * T * D + D);
      expect(maxAbsDiff(first, ref.text_encoder.last_hidden_state_first_token[k])).toBeLessThan(1e-3);
      expect(maxAbsDiff(e.subarray(k * E, (k + 1) * E), ref.text_encoder.text_embeds[k])).toBeLessThan(1e-3);
    }
  });

  it('unet gives the PyTorch output on deterministic inputs', async () => {
    const s = await session('unet');
    const b = 2;
    const r = await s.run({
      sample: new ort.Tensor(
        'float32',
        f32(b * 1024, (i) => Math.sin(mulF32(i, 0.37))),
        [b, 4, 16, 16],
      ),
      timestep: new ort.Tensor('int64', i64(ref.unet.timestep), [b]),
      encoder_hidden_states: new ort.Tensor(
        'float32',
        f32(b * T * D, (i) => Math.cos(mulF32(i, 0.11))),
        [b, T, D],
      ),
    });
    const out = r.out_sample.data as Float32Array;
    expect(maxAbsDiff(out.subarray(0, ref.unet.out_sample_first.length), ref.unet.out_sample_first)).toBeLessThan(2e-3);
    const mean = out.reduce((a, v) => a + v, 0) / out.length;
    expect(Math.abs(mean - ref.unet.out_sample_mean)).toBeLessThan(1e-3);
  });
});
