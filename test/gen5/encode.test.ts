import { describe, expect, it } from 'vitest';
import { decodeGen5 } from '../../gen5/decode.ts';
import { encodeGen5, pythonUtcIso } from '../../gen5/encode.ts';
import { Gen5Error } from '../../gen5/errors.ts';
import { parseHeader } from '../../gen5/header.ts';
import { PyFloat } from '../../gen5/pyjson.ts';
import { f32Bytes, sampleInput, sha256, TINY_PNG } from './helpers.ts';

describe('encodeGen5', () => {
  it('lays out header, LATN…, DATA, ENVC, META contiguously, with a true file_size', async () => {
    const bytes = await encodeGen5(
      sampleInput({
        latents: [
          { name: 'initial_noise', dtype: 'float32', shape: [1, 2, 2, 2], data: f32Bytes(8, 1) },
          { name: 'final_latent', dtype: 'float32', shape: [1, 2, 2, 2], data: f32Bytes(8, 2) },
        ],
      }),
    );
    const header = parseHeader(bytes);
    expect(header).toMatchObject({ versionMajor: 1, versionMinor: 0, flags: 0, chunkCount: 4, fileSize: bytes.length });
    const file = await decodeGen5(bytes);
    expect(file.records.map((r) => [r.index, r.type, r.flags])).toEqual([
      [0, 'LATN', 'F32'],
      [1, 'LATN', 'F32'],
      [2, 'DATA', '0000'],
      [3, 'ENVC', '0000'],
    ]);
    let offset = 32;
    for (const r of file.records) {
      expect(r.offset).toBe(offset);
      expect(Object.keys(r)).toEqual([
        'index',
        'type',
        'flags',
        'offset',
        'compressed_size',
        'uncompressed_size',
        'hash',
        'extra',
        'compressed',
      ]);
      offset += r.compressed_size;
    }
    expect(header.chunkTableOffset).toBe(offset);
    expect(file.records[0].extra).toEqual({ shape: [1, 2, 2, 2], dtype: 'float32', key: 'initial_noise' });
    expect(file.records[0].hash).toBe(sha256(f32Bytes(8, 1))); // raw payload, not the frame
    expect(file.records[2].hash).toBe(sha256(TINY_PNG));
    expect(file.image).toEqual(TINY_PNG);
    expect(file.metaText).toMatch(/^\{\n {2}"gen5_metadata": \{\n {4}"file_info": \{/);
    expect(file.metaText).toContain('"prompt": "a test \\u2713"');
    // file_info.file_size is exact here (0.1.0 writes a stale one): no "stale" note.
    expect(file.notes).toEqual([]);
  });

  it('stores LATN uncompressed on request, other chunks stay compressed', async () => {
    const file = await decodeGen5(await encodeGen5(sampleInput({ compress: false })));
    expect(file.records.map((r) => r.compressed)).toEqual([false, true, true]);
    expect(file.records[0].compressed_size).toBe(32 + 12);
  });

  it('omits DATA when there is no image', async () => {
    const file = await decodeGen5(await encodeGen5(sampleInput({ image: undefined })));
    expect(file.records.map((r) => r.type)).toEqual(['LATN', 'ENVC']);
    expect(file.image).toBeUndefined();
  });

  it('casts float32 to float16 when asked, hashing the cast bytes', async () => {
    const data = new Uint8Array(new Float32Array([1, -2, 0.5, 65504, 1e-8, 3, 4, 5]).buffer);
    const file = await decodeGen5(
      await encodeGen5(
        sampleInput({ float16: true, latents: [{ name: 'x', dtype: 'float32', shape: [1, 2, 2, 2], data }] }),
      ),
    );
    const [l] = file.latents;
    expect(l.dtype).toBe('float16');
    expect(file.records[0].flags).toBe('F16');
    expect(Array.from(new Uint16Array(l.data.buffer, l.data.byteOffset, l.data.length / 2))).toEqual([
      0x3c00, 0xc000, 0x3800, 0x7bff, 0x0000, 0x4200, 0x4400, 0x4500,
    ]);
    expect(file.records[0].hash).toBe(sha256(l.data));
  });

  it('writes integral floats marked PyFloat as Python floats', async () => {
    const file = await decodeGen5(
      await encodeGen5(
        sampleInput({
          modelInfo: {
            ...sampleInput().modelInfo,
            generation_settings: { seed: 0, steps: 8, sampler: 'ddim', cfg_scale: new PyFloat(7) },
          },
        }),
      ),
    );
    expect(file.metaText).toContain('"cfg_scale": 7.0');
    expect(file.metaText).toContain('"steps": 8,');
  });

  it('puts extra properties after chunks and defaults the date to Python isoformat', async () => {
    const input = sampleInput({ extra: { lob_provenance: { key: { text: 'k' } } } });
    const { date: _omit, ...info } = input.modelInfo;
    const file = await decodeGen5(await encodeGen5({ ...input, modelInfo: info }));
    expect(Object.keys(file.meta.gen5_metadata)).toEqual(['file_info', 'model_info', 'chunks', 'lob_provenance']);
    expect(file.meta.gen5_metadata.model_info.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(pythonUtcIso(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)))).toBe('2026-01-02T03:04:05.006000+00:00');
    expect(pythonUtcIso(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('2026-01-02T03:04:05+00:00');
  });

  it('is deterministic', async () => {
    expect(sha256(await encodeGen5(sampleInput()))).toBe(sha256(await encodeGen5(sampleInput())));
  });

  const bad: [string, Parameters<typeof sampleInput>[0], string][] = [
    ['no latents', { latents: [] }, 'INPUT'],
    [
      'a 3-D latent',
      { latents: [{ name: 'x', dtype: 'float32', shape: [2, 2, 2], data: f32Bytes(8) }] },
      'LATENT_SHAPE',
    ],
    [
      'a dimension above 8192',
      { latents: [{ name: 'x', dtype: 'float32', shape: [1, 1, 1, 8193], data: f32Bytes(8193) }] },
      'LATENT_SHAPE',
    ],
    [
      'bytes that disagree with the shape',
      { latents: [{ name: 'x', dtype: 'float32', shape: [1, 2, 2, 2], data: f32Bytes(7) }] },
      'LATENT_SIZE',
    ],
    [
      'a NaN',
      {
        latents: [
          {
            name: 'x',
            dtype: 'float32',
            shape: [1, 1, 1, 1],
            data: new Uint8Array(new Float32Array([Number.NaN]).buffer),
          },
        ],
      },
      'LATENT_NONFINITE',
    ],
    [
      'an overflow in the float16 cast',
      {
        float16: true,
        latents: [
          { name: 'x', dtype: 'float32', shape: [1, 1, 1, 1], data: new Uint8Array(new Float32Array([1e6]).buffer) },
        ],
      },
      'LATENT_NONFINITE',
    ],
    [
      'a repeated latent name',
      { latents: [0, 1].map(() => ({ name: 'x', dtype: 'float32' as const, shape: [1, 1, 1, 1], data: f32Bytes(1) })) },
      'INPUT',
    ],
    ['an image that is not a PNG', { image: new Uint8Array([1, 2, 3]) }, 'IMAGE'],
    [
      'model_info failing the schema',
      { modelInfo: { ...sampleInput().modelInfo, generation_settings: { seed: 0, steps: 0, sampler: '' } } },
      'SCHEMA',
    ],
  ];
  it.each(bad)('rejects %s', async (_what, overrides, code) => {
    const err = await encodeGen5(sampleInput(overrides)).catch((e) => e);
    expect(err).toBeInstanceOf(Gen5Error);
    expect(err.code).toBe(code);
  });
});
