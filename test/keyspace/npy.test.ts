import { describe, expect, it } from 'vitest';
import { numberToFloat16 } from '../../keyspace/index.ts';
import { decodeNpy, encodeNpy, NpyError } from '../../lib/npy.ts';

describe('.npy files', () => {
  it('round-trips float32 and float16 arrays with NumPy-style 64-byte aligned headers', () => {
    const f32 = Float32Array.from([1.5, -2.25, 3e-8, 65504, 0, -0]);
    const a = encodeNpy(f32, [2, 3]);
    expect(new TextDecoder().decode(a.subarray(10, 10 + 70))).toContain(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
    );
    expect((10 + new DataView(a.buffer).getUint16(8, true)) % 64).toBe(0);
    expect(decodeNpy(a)).toEqual({ dtype: '<f4', shape: [2, 3], data: f32 });
    const f16 = Uint16Array.from([1.5, -2.25, 65504].map(numberToFloat16));
    const b = decodeNpy(encodeNpy(f16, [3]));
    expect(b.dtype).toBe('<f2');
    expect(b.shape).toEqual([3]);
    expect(Array.from(b.data)).toEqual([1.5, -2.25, 65504]);
  });

  it('reads float64 (rounded to float32) and rejects what it cannot read, saying why', () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    const padded = `${header}${' '.repeat(64 - ((10 + header.length + 1) % 64))}\n`;
    const bytes = new Uint8Array(10 + padded.length + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 10);
    new DataView(bytes.buffer).setFloat64(10 + padded.length, 0.1, true);
    expect(decodeNpy(bytes).data[0]).toBe(Math.fround(0.1));

    const bad = (patch: (s: string) => string) => {
      const text = new TextDecoder('latin1').decode(bytes);
      return decodeNpy(Uint8Array.from(patch(text), (c) => c.charCodeAt(0)));
    };
    expect(() => bad((s) => s.replace('<f8', '>f8'))).toThrow(/dtype >f8 is not supported/);
    expect(() => bad((s) => s.replace('False', 'True '))).toThrow(/Fortran-order/);
    expect(() => bad((s) => s.replace('(2,)', '(3,)'))).toThrow(/needs 24 data bytes, file has 16/);
    expect(() => decodeNpy(new Uint8Array(20))).toThrow(NpyError);
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values, got 5/);
  });
});
