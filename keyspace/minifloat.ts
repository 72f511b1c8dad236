import type { ValueCoding } from './coding.ts';

export interface MinifloatSpec {
  type: 'minifloat';
  sign: boolean;
  exponentBits: number;
  mantissaBits: number;
  /**
   * Offset to float16's exponent field, as in the seed project: exponent field e stands for the float16 exponent
   * field e + bias, i.e. the power 2^(e + bias - 15). (The conventional minifloat bias is 15 - bias.)
   */
  bias: number;
  /** When true, exponent field 0 holds ±0 and subnormals (IEEE style); when false (seed style) it is a normal binade. */
  subnormals?: boolean;
}

// Exact exponent extraction: a float32 widened to float64 is never a float64 subnormal.
const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

function exponentOf(a: number): number {
  scratch[0] = a;
  return ((scratchWords[HIGH_WORD] >>> 20) & 0x7ff) - 1023;
}

function roundHalfEven(n: number): number {
  const f = Math.floor(n);
  const d = n - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Sign / exponent / mantissa codes, packed as (sign << (E + M)) | (exponent << M) | mantissa. Every code is finite:
 * there is no infinity or NaN. Encoding rounds to nearest, ties to even, and saturates at both ends of the range
 * (never wraps, never drops the sign: -0 and tiny negatives go to the negative end of the smallest magnitude).
 */
export class Minifloat implements ValueCoding {
  readonly bits: number;
  readonly float16Exact: boolean;
  readonly maxValue: number;
  readonly minMagnitude: number;
  private readonly m: number;
  private readonly mScale: number;
  private readonly subnormals: boolean;
  /** Power of two of the smallest normal binade. */
  private readonly eMinNormal: number;
  private readonly eMax: number;
  private readonly magMax: number;
  private readonly signBit: number;
  private readonly table: Float32Array | null;

  constructor(readonly spec: MinifloatSpec) {
    const { exponentBits: e, mantissaBits: m, bias } = spec;
    this.subnormals = spec.subnormals === true;
    this.m = m;
    this.mScale = 2 ** m;
    this.bits = (spec.sign ? 1 : 0) + e + m;
    this.eMinNormal = this.subnormals ? bias - 14 : bias - 15;
    this.eMax = this.exponentOfField(2 ** e - 1);
    this.magMax = 2 ** (e + m) - 1;
    this.signBit = spec.sign ? 2 ** (e + m) : 0;
    this.float16Exact = m <= 10 && this.eMax <= 15 && this.eMinNormal - m >= -24;
    this.table = this.bits <= 16 ? this.buildTable() : null;
    this.maxValue = this.decodeMagnitude(this.magMax);
    this.minMagnitude = this.decodeMagnitude(this.subnormals ? 1 : 0);
  }

  private exponentOfField(field: number): number {
    return this.subnormals ? this.eMinNormal + field - 1 : this.eMinNormal + field;
  }

  private decodeMagnitude(mag: number): number {
    const field = Math.floor(mag / this.mScale);
    const mantissa = mag - field * this.mScale;
    if (this.subnormals && field === 0) return mantissa * 2 ** (this.eMinNormal - this.m);
    return (this.mScale + mantissa) * 2 ** (this.exponentOfField(field) - this.m);
  }

  private buildTable(): Float32Array {
    const table = new Float32Array(2 ** this.bits);
    for (let code = 0; code < table.length; code++) table[code] = this.compute(code);
    return table;
  }

  private compute(code: number): number {
    if (this.signBit !== 0 && code >= this.signBit) return -this.decodeMagnitude(code - this.signBit);
    return this.decodeMagnitude(code);
  }

  decode(code: number): number {
    return this.table !== null ? this.table[code] : this.compute(code);
  }

  /** All decoded values by code, for codecs that decode many values (null when the code is wider than 16 bits). */
  decodeTable(): Float32Array | null {
    return this.table;
  }

  encode(value: number): number {
    if (Number.isNaN(value)) throw new RangeError('NaN cannot be encoded');
    if (!Number.isFinite(value)) throw new RangeError(`${value} cannot be encoded`);
    f32[0] = value;
    return this.encodeBits(u32[0]);
  }

  /**
   * The code of a float32 given as its bit pattern, with integer arithmetic only (the hot path of the encoder, which
   * reads a Float32Array through a Uint32Array view).
   */
  encodeBits(x: number): number {
    const e32 = (x >>> 23) & 0xff;
    if (e32 === 0xff)
      throw new RangeError((x & 0x7fffff) !== 0 ? 'NaN cannot be encoded' : 'an infinity cannot be encoded');
    const negative = x >>> 31 === 1;
    if (negative && this.signBit === 0) return 0; // an unsigned coding saturates at its bottom end
    const mag =
      e32 === 0
        ? this.encodeMagnitude(Math.abs(f32FromBits(x)))
        : this.encodeNormal(e32 - 127, (x & 0x7fffff) | 0x800000);
    return negative ? this.signBit + mag : mag;
  }

  /**
   * Encodes float32 bit patterns `bits[stored[i]]` for i in [from, stored.length) into `codes[i]`: the encoder's hot
   * loop, with the common case (a normal float32 landing in a normal binade) inlined. Returns the index i of the
   * first NaN or infinity (whose `encode` gives the error), or -1.
   */
  encodeBitsInto(bits: Uint32Array, stored: Int32Array, from: number, codes: Uint32Array): number {
    // `| 0`: the fields come from `2 **`, which V8 keeps as doubles; int32 locals keep the loop in integer code.
    const m = this.m | 0;
    const eMax = this.eMax | 0;
    const eMinNormal = this.eMinNormal | 0;
    const magMax = this.magMax | 0;
    const signBit = this.signBit | 0;
    const shift = 23 - m;
    const roundBias = shift > 0 ? (1 << (shift - 1)) - 1 : 0;
    const lsbMask = shift > 0 ? 1 : 0; // with nothing to round away (shift 0), add nothing
    const base = eMinNormal - (this.subnormals ? 1 : 0);
    const dropNegative = signBit === 0 ? 1 : 0;
    for (let i = from; i < stored.length; i++) {
      const x = bits[stored[i]];
      const e32 = (x >>> 23) & 0xff;
      const k = e32 - 127;
      if (e32 === 0xff) return i;
      if (e32 === 0 || k < eMinNormal) {
        codes[i] = this.encodeBits(x);
        continue;
      }
      let mag: number;
      if (k > eMax) {
        mag = magMax;
      } else {
        // Round half to even without a branch: add half - 1, plus 1 when the kept part is odd, then truncate.
        const sig = (x & 0x7fffff) | 0x800000;
        const h = (sig + roundBias + ((sig >>> shift) & lsbMask)) >>> shift;
        mag = ((k - base) << m) + h - (1 << m);
        if (mag > magMax) mag = magMax;
      }
      // Branch-free sign (signs of real data are random: a branch on them mispredicts half the time). An unsigned
      // coding saturates negatives at its bottom end, code 0.
      const negative = x >>> 31;
      codes[i] = (mag + negative * signBit) * (1 - negative * dropNegative);
    }
    return -1;
  }

  /** Magnitude code of sig × 2^(k - 23), sig in [2^23, 2^24). */
  private encodeNormal(k: number, sig: number): number {
    if (k > this.eMax) return this.magMax;
    const m = this.m;
    if (k < this.eMinNormal) {
      if (!this.subnormals) return 0; // below the smallest magnitude: the nearest code is the smallest
      return roundShift(sig, 23 - m + this.eMinNormal - k); // may round up to the first normal: codes are contiguous
    }
    const r = roundShift(sig, 23 - m); // in [2^m, 2^(m+1)]; the top end carries into the next binade
    const mag = (k - this.eMinNormal + (this.subnormals ? 1 : 0)) * this.mScale + r - this.mScale;
    return Math.min(mag, this.magMax);
  }

  /** Magnitude code of any non-negative finite number (float32 subnormal inputs take this path). */
  private encodeMagnitude(a: number): number {
    if (a === 0) return 0;
    const k = exponentOf(a);
    if (k > this.eMax) return this.magMax;
    if (k < this.eMinNormal) {
      if (!this.subnormals) return 0;
      return roundHalfEven(a * 2 ** (this.m - this.eMinNormal));
    }
    const r = roundHalfEven(a * 2 ** (this.m - k));
    const mag = (k - this.eMinNormal + (this.subnormals ? 1 : 0)) * this.mScale + r - this.mScale;
    return Math.min(mag, this.magMax);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function f32FromBits(x: number): number {
  u32[0] = x;
  return f32[0];
}

/** sig / 2^shift rounded to nearest, ties to even (sig < 2^24). */
function roundShift(sig: number, shift: number): number {
  if (shift <= 0) return sig;
  if (shift > 25) return 0;
  const h = sig >>> shift;
  const rem = sig & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (h & 1) === 1) ? h + 1 : h;
}
