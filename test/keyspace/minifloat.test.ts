import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Minifloat, type MinifloatSpec } from '../../keyspace/index.ts';

const SEED_PROMPT: MinifloatSpec = { type: 'minifloat', sign: true, exponentBits: 4, mantissaBits: 10, bias: 4 };
const SEED_LATENT: MinifloatSpec = { ...SEED_PROMPT, bias: 1 };
const TINY: MinifloatSpec = { type: 'minifloat', sign: true, exponentBits: 3, mantissaBits: 2, bias: 12 };
const TINY_SUB: MinifloatSpec = { ...TINY, subnormals: true };

/** Reference: the code of the nearest value by brute force, ties to the even code, then saturation by nearness. */
function bruteNearest(coding: Minifloat, x: number): number {
  let best = -1;
  let bestDist = Number.POSITIVE_INFINITY;
  for (let c = 0; c < 2 ** coding.bits; c++) {
    const v = coding.decode(c);
    if (coding.spec.sign && Math.sign(v) !== 0 && Math.sign(x) !== 0 && Math.sign(v) !== Math.sign(x)) continue; // sign is kept
    const d = Math.abs(v - x);
    if (d < bestDist || (d === bestDist && (c & 1) === 0)) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

describe('minifloat (seed 15-bit window)', () => {
  const prompt = new Minifloat(SEED_PROMPT);
  const latent = new Minifloat(SEED_LATENT);

  it('spans the seed ranges: 2^-11 … just under 2^5 for the prompt, 2^-14 … just under 4 for the latent', () => {
    expect(prompt.bits).toBe(15);
    expect(prompt.minMagnitude).toBe(2 ** -11);
    expect(prompt.maxValue).toBe(2 ** 4 * (2 - 2 ** -10));
    expect(latent.minMagnitude).toBe(2 ** -14);
    expect(latent.maxValue).toBe(2 * (2 - 2 ** -10));
    expect(prompt.float16Exact).toBe(true);
  });

  it('packs sign | exponent | mantissa with float16 mantissa bits as is', () => {
    // 1.5 = float16 0x3e00: exponent field 15, mantissa 0x200; prompt window exponent field = 15 - 4 = 11.
    expect(prompt.encode(1.5)).toBe((11 << 10) | 0x200);
    expect(prompt.encode(-1.5)).toBe((1 << 14) | (11 << 10) | 0x200);
    expect(prompt.decode((1 << 14) | (11 << 10) | 0x200)).toBe(-1.5);
  });

  it('round-trips every code', () => {
    for (const coding of [prompt, latent]) {
      for (let c = 0; c < 2 ** 15; c++) expect(coding.encode(coding.decode(c))).toBe(c);
    }
  });

  it('keeps the sign of ±0 and of tiny values, clamping them to ±the smallest magnitude', () => {
    expect(latent.decode(latent.encode(0))).toBe(2 ** -14);
    expect(latent.decode(latent.encode(-0))).toBe(-(2 ** -14));
    expect(latent.decode(latent.encode(-1e-30))).toBe(-(2 ** -14));
    expect(latent.decode(latent.encode(1e-45))).toBe(2 ** -14); // a float32 subnormal
  });

  it('saturates past the range instead of wrapping (the seed wraps 5.0 to 7.6e-5)', () => {
    expect(latent.decode(latent.encode(5))).toBe(latent.maxValue);
    expect(latent.decode(latent.encode(-5))).toBe(-latent.maxValue);
    expect(latent.decode(latent.encode(3.4e38))).toBe(latent.maxValue);
    // Just above max rounds to max; exactly max stays max.
    expect(latent.decode(latent.encode(latent.maxValue))).toBe(latent.maxValue);
  });

  it('rejects NaN and infinities', () => {
    expect(() => latent.encode(Number.NaN)).toThrow(/NaN/);
    expect(() => latent.encode(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => latent.encode(Number.NEGATIVE_INFINITY)).toThrow(RangeError);
  });

  it('rounds float32 to the nearest code, ties to even', () => {
    // Between 1 and 1 + 2^-10: the midpoint goes to the even mantissa (1), just above goes up.
    expect(latent.decode(latent.encode(1 + 2 ** -11))).toBe(1);
    expect(latent.decode(latent.encode(1 + 3 * 2 ** -11))).toBe(1 + 2 * 2 ** -10);
    expect(latent.decode(latent.encode(Math.fround(1 + 2 ** -11 + 2 ** -20)))).toBe(1 + 2 ** -10);
    // A mantissa carry moves into the next binade.
    expect(latent.decode(latent.encode(2 - 2 ** -12))).toBe(2);
  });

  it('equals the float16 rounding of in-range float32 values (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.float({ min: Math.fround(2 ** -11), max: Math.fround(31.9), noNaN: true }),
        fc.boolean(),
        (a, neg) => {
          const x = neg ? -a : a;
          const v = prompt.decode(prompt.encode(x));
          const f16 = new Float32Array(1);
          // Reference float16 rounding via a float64 → float16 ties-to-even computation.
          const e = Math.floor(Math.log2(Math.abs(x)));
          const q = 2 ** (e - 10);
          const n = Math.abs(x) / q;
          const r = Math.floor(n);
          const rounded = n - r > 0.5 || (n - r === 0.5 && r % 2 === 1) ? r + 1 : r;
          f16[0] = Math.sign(x) * rounded * q;
          expect(v).toBe(Math.min(Math.max(f16[0], -prompt.maxValue), prompt.maxValue));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('minifloat (general, small formats checked against brute force)', () => {
  for (const spec of [TINY, TINY_SUB, { ...TINY, sign: false }]) {
    const coding = new Minifloat(spec);
    const label = `${spec.sign ? 's' : 'u'}e3m2${spec.subnormals ? ' subnormals' : ''}`;

    it(`${label}: every code round-trips and decodes to a finite value`, () => {
      for (let c = 0; c < 2 ** coding.bits; c++) {
        const v = coding.decode(c);
        expect(Number.isFinite(v)).toBe(true);
        if (!(spec.subnormals && (c === 0 || c === 2 ** (coding.bits - 1)))) expect(coding.encode(v)).toBe(c);
      }
    });

    it(`${label}: encoding picks the nearest code (fast-check)`, () => {
      fc.assert(
        fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
          const code = coding.encode(x);
          expect(Math.abs(coding.decode(code) - x)).toBe(Math.abs(coding.decode(bruteNearest(coding, x)) - x));
          if (x !== 0 && spec.sign) expect(Math.sign(coding.decode(code)) || Math.sign(x)).toBe(Math.sign(x));
        }),
        { numRuns: 2000 },
      );
    });
  }

  it('with subnormals: ±0 are codes, subnormals are evenly spaced and meet the first normal', () => {
    const coding = new Minifloat(TINY_SUB);
    expect(Object.is(coding.decode(coding.encode(0)), 0)).toBe(true);
    expect(Object.is(coding.decode(coding.encode(-0)), -0)).toBe(true);
    const q = coding.decode(1);
    expect(coding.decode(2)).toBe(2 * q);
    expect(coding.decode(3)).toBe(3 * q);
    expect(coding.decode(4)).toBe(4 * q); // first normal: exponent field 1, mantissa 0
    expect(coding.decode(coding.encode(q * 0.5))).toBe(0); // a tie between 0 and q goes to the even code 0
    expect(coding.decode(coding.encode(q * 0.51))).toBe(q);
  });
});

describe('minifloat array encoder (the codec hot path)', () => {
  it('gives the same codes as encode() for any float32 bit pattern, and reports NaN/Inf positions', () => {
    const specs: MinifloatSpec[] = [
      SEED_PROMPT,
      SEED_LATENT,
      TINY,
      TINY_SUB,
      { ...TINY, sign: false },
      { type: 'minifloat', sign: true, exponentBits: 2, mantissaBits: 22, bias: 15 },
      { type: 'minifloat', sign: false, exponentBits: 1, mantissaBits: 23, bias: 15 },
    ];
    for (const spec of specs) {
      const coding = new Minifloat(spec);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 40 }), (words) => {
          const bits = Uint32Array.from(words);
          const floats = new Float32Array(bits.buffer);
          const stored = Int32Array.from(words.keys());
          const codes = new Uint32Array(words.length);
          const failed = coding.encodeBitsInto(bits, stored, 0, codes);
          const firstBad = floats.findIndex((v) => !Number.isFinite(v));
          expect(failed).toBe(firstBad);
          const upTo = firstBad < 0 ? words.length : firstBad;
          for (let i = 0; i < upTo; i++) expect(codes[i]).toBe(coding.encode(floats[i]));
        }),
        { numRuns: 300 },
      );
    }
  });
});
