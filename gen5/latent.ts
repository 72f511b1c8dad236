import { ITEM_SIZE, type LatentDtype } from './chunk.ts';
import { Gen5Error } from './errors.ts';
import type { Gen5Limits } from './limits.ts';

/** Shape rules of gen5 0.1.0's latent_shape_validator: exactly 4-D, each dim 1..8192, at most 100M elements. */
export function checkLatentShape(shape: unknown, limits: Gen5Limits, what: string): number[] {
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new Gen5Error('LATENT_SHAPE', `${what}: shape ${JSON.stringify(shape)} is not 4-D`);
  }
  let elements = 1;
  for (const [i, d] of shape.entries()) {
    if (!Number.isInteger(d) || d < 1 || d > limits.maxLatentDim) {
      throw new Gen5Error(
        'LATENT_SHAPE',
        `${what}: dimension ${i} is ${JSON.stringify(d)}, expected an integer 1..${limits.maxLatentDim}`,
      );
    }
    elements *= d;
  }
  if (elements > limits.maxLatentElements) {
    throw new Gen5Error(
      'LATENT_SHAPE',
      `${what}: ${elements} elements, above the limit of ${limits.maxLatentElements}`,
    );
  }
  return shape as number[];
}

export function checkLatentDtype(dtype: unknown, what: string): LatentDtype {
  if (dtype !== 'float16' && dtype !== 'float32') {
    throw new Gen5Error('LATENT_DTYPE', `${what}: dtype ${JSON.stringify(dtype)}, expected float16 or float32`);
  }
  return dtype;
}

export function expectedLatentBytes(shape: number[], dtype: LatentDtype): number {
  return shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype];
}

/** Rejects NaN and ±Inf (all-ones exponent) without building float arrays; `data` must be 4-byte aligned. */
export function checkFinite(data: Uint8Array, dtype: LatentDtype, what: string): void {
  if (dtype === 'float16') {
    const h = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
    for (let i = 0; i < h.length; i++) {
      if ((h[i] & 0x7c00) === 0x7c00) throw nonFinite(what, i, (h[i] & 0x3ff) !== 0);
    }
  } else {
    const u = new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
    for (let i = 0; i < u.length; i++) {
      if ((u[i] & 0x7f800000) === 0x7f800000) throw nonFinite(what, i, (u[i] & 0x7fffff) !== 0);
    }
  }
}

function nonFinite(what: string, index: number, nan: boolean): Gen5Error {
  return new Gen5Error('LATENT_NONFINITE', `${what}: element ${index} is ${nan ? 'NaN' : 'Inf'}`);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits, round to nearest even, overflow to Inf: numpy's `astype(np.float16)`. */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is exactly right (up to Inf).
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Raw little-endian float32 bytes → raw float16 bytes. */
export function castF32BytesToF16(data: Uint8Array): Uint8Array {
  const src = new Float32Array(data.slice().buffer);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16Bits(src[i]);
  return new Uint8Array(out.buffer);
}
