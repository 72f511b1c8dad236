// IEEE-754 binary16 conversions, for the seed project's float16 arrays and for float16 .npy files.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 value of a 16-bit pattern. */
export function float16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + man) * 2 ** (exp - 25);
}

/** The float16 bit pattern of a number, rounded to nearest even (overflow → ±Inf, as IEEE does). */
export function numberToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = man | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is the correct rounding
  return sign | h;
}

/** True when the number is exactly a float16 value. */
export function isFloat16Exact(value: number): boolean {
  return Number.isNaN(value) || float16ToNumber(numberToFloat16(value)) === value;
}

/** Float16 bit patterns of float32 values (rounded to nearest even). */
export function toFloat16Array(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToFloat16(values[i]);
  return out;
}
