import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { encodeGen5 } from '../../gen5/encode.ts';
import { canonicalString } from '../../gen5/envc.ts';
import { currentEnvironment, hardwareInfo, osVersion, parseNvidiaSmi } from '../../lib/environment.ts';
import { buildGen5Input, ProvenanceError, type ProvenanceInput, readProvenance } from '../../lib/provenance.ts';
import type { RenderResult } from '../../pipeline/render/render.ts';
import { TINY_PNG } from './helpers.ts';

// The pipeline's RenderResult must stay usable as ProvenanceInput (checked by the compiler).
const _compatible: (r: RenderResult) => ProvenanceInput = (r) => r;

function fakeRender(): ProvenanceInput {
  const session = { executionProvider: 'cpu', graphOptimizationLevel: 'all', intraOpNumThreads: 2 };
  const ramp = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k));
  return {
    png: TINY_PNG,
    pngSha256: createHash('sha256').update(TINY_PNG).digest('hex'),
    key: 'emoji1-KEYTEXT',
    profileId: 'emoji',
    steps: 12,
    guidance: 3,
    scheduler: 'DDIMScheduler',
    initialNoise: ramp(4 * 4 * 4, 1),
    finalLatent: ramp(4 * 4 * 4, 2),
    embedding: ramp(3 * 5, 3),
    settings: {
      session,
      unet: { threads: [1, 1], guidance: 'parallel' },
      latentShape: [1, 4, 4, 4],
      embeddingShape: [3, 5],
    },
    model: {
      name: 'emoji-ldm',
      version: '1',
      files: { 'unet/model.onnx': 'b'.repeat(64), 'text_encoder/model.onnx': 'a'.repeat(64) },
    },
  };
}

describe('provenance in META', () => {
  it('stores the key, model identity, pipeline settings and image hash, and the three latents', async () => {
    const env = [{ id: 'node', canonical: 'name=node;version=20' }];
    const bytes = await encodeGen5(
      buildGen5Input(fakeRender(), { environment: env, prompt: 'a cat', date: '2026-11-22T00:00:00+00:00' }),
    );
    const file = await decodeGen5(bytes);
    expect(readProvenance(file)).toEqual({
      format: 'lob-provenance/1',
      key: { profile: 'emoji', text: 'emoji1-KEYTEXT' },
      model: {
        name: 'emoji-ldm',
        version: '1',
        files: { 'text_encoder/model.onnx': 'a'.repeat(64), 'unet/model.onnx': 'b'.repeat(64) },
      },
      pipeline: {
        scheduler: 'DDIMScheduler',
        steps: 12,
        guidance: 3,
        precision: 'float32',
        unconditional: 'empty-prompt',
        executionProvider: 'cpu',
        sessionOptions: {
          executionProvider: 'cpu',
          graphOptimizationLevel: 'all',
          intraOpNumThreads: 2,
          unetThreads: [1, 1],
          guidance: 'parallel',
        },
      },
      image_sha256: fakeRender().pngSha256,
    });
    expect(file.latents.map((l) => [l.name, l.dtype, l.shape])).toEqual([
      ['initial_noise', 'float32', [1, 4, 4, 4]],
      ['final_latent', 'float32', [1, 4, 4, 4]],
      ['embedding', 'float32', [1, 1, 3, 5]],
    ]);
    expect(new Float32Array(file.latents[2].data.buffer, file.latents[2].data.byteOffset, 15)).toEqual(
      fakeRender().embedding,
    );
    const info = file.meta.gen5_metadata.model_info;
    expect(info).toMatchObject({ model_name: 'emoji-ldm', version: '1', prompt: 'a cat', tags: ['lob', 'emoji'] });
    expect(info.generation_settings).toMatchObject({ seed: 0, steps: 12, sampler: 'DDIMScheduler', cfg_scale: 3 });
    expect(file.metaText).toContain('"cfg_scale": 3.0'); // a float, as Python would write it
  });

  it('refuses a render whose pngSha256 is not its PNG, or whose latents do not fill their shapes', () => {
    expect(() => buildGen5Input({ ...fakeRender(), pngSha256: 'f'.repeat(64) }, { environment: [] })).toThrow(
      ProvenanceError,
    );
    const bad = fakeRender();
    bad.settings.embeddingShape = [4, 5];
    expect(() => buildGen5Input(bad, { environment: [] })).toThrow(
      /embedding: 15 values do not fill shape \[1,1,4,5\]/,
    );
  });

  it('reads no provenance from files without it, and rejects a malformed one', async () => {
    const input = buildGen5Input(fakeRender(), { environment: [] });
    const plain = await decodeGen5(await encodeGen5({ ...input, extra: undefined }));
    expect(readProvenance(plain)).toBeUndefined();
    const broken = await decodeGen5(await encodeGen5({ ...input, extra: { lob_provenance: { format: 'other' } } }));
    expect(() => readProvenance(broken)).toThrow(ProvenanceError);
  });
});

describe('our ENVC components', () => {
  it("lists node, onnxruntime-node, execution provider, cpu, os (gen5's form), GPUs and model files", async () => {
    const env = await currentEnvironment({
      executionProvider: 'cuda',
      gpus: [{ name: 'NVIDIA A100', driver: '535.129.01' }],
      modelFiles: { 'unet/model.onnx': 'b'.repeat(64), 'text_encoder/model.onnx': 'a'.repeat(64) },
    });
    expect(env.map((c) => c.id)).toEqual([
      'node',
      'onnxruntime-node',
      'execution_provider',
      'cpu',
      'os',
      'gpu',
      'model_file:text_encoder/model.onnx',
      'model_file:unet/model.onnx',
    ]);
    expect(env[0].canonical).toBe(`name=node;version=${process.versions.node}`);
    expect(env[1].canonical).toMatch(/^name=onnxruntime-node;version=\d+\.\d+\.\d+/);
    expect(env[2].canonical).toBe('name=execution_provider;provider=cuda');
    expect(env[4].canonical).toBe(canonicalString('os', { version: osVersion() }));
    expect(env[5].canonical).toBe('name=gpu;model=NVIDIA A100;driver=535.129.01');
    expect(env[7].canonical).toBe(`name=model_file:unet/model.onnx;sha256=${'b'.repeat(64)}`);
  });

  it('parses nvidia-smi CSV and fills hardware_info within the gen5 schema', () => {
    expect(parseNvidiaSmi('NVIDIA A100-SXM4-40GB, 535.129.01\nTesla T4, 535.129.01\n')).toEqual([
      { name: 'NVIDIA A100-SXM4-40GB', driver: '535.129.01' },
      { name: 'Tesla T4', driver: '535.129.01' },
    ]);
    expect(parseNvidiaSmi('')).toEqual([]);
    const hw = hardwareInfo('cpu');
    expect(hw.os).toBe(osVersion());
    expect(hw.cpu_cores).toBeGreaterThanOrEqual(1);
  });
});
