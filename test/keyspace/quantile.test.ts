import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ArraySection,
  createProfileRegistry,
  decodeKey,
  encodeKey,
  KeyError,
  normalQuantile,
  parseKey,
  QuantileCoding,
  quantiseSection,
} from '../../keyspace/index.ts';
import { small } from './helpers.ts';

const registry = createProfileRegistry([small]);

describe('normalQuantile', () => {
  it('matches known standard normal quantiles', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.841344746)).toBeCloseTo(1, 8);
    expect(normalQuantile(1e-6)).toBeCloseTo(-4.753424309, 7);
  });

  it('is odd and increasing', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-9, max: 0.5, noNaN: true }), (p) => {
        expect(normalQuantile(p) + normalQuantile(1 - p)).toBeCloseTo(0, 6);
        expect(normalQuantile(p * 0.999)).toBeLessThanOrEqual(normalQuantile(p));
      }),
    );
  });

  it('rejects p outside (0, 1)', () => {
    expect(() => normalQuantile(0)).toThrow(RangeError);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe('quantile coding, standard normal', () => {
  const coding = new QuantileCoding({ type: 'quantile', bits: 4, distribution: { type: 'standard-normal' } });

  it('decodes code c to Φ⁻¹((c + 0.5) / 16), symmetric about 0', () => {
    expect(coding.decode(0, 0)).toBe(Math.fround(normalQuantile(0.5 / 16)));
    expect(coding.decode(15, 0)).toBeCloseTo(1.8627, 4);
    for (let c = 0; c < 16; c++) expect(coding.decode(c, 0)).toBe(-coding.decode(15 - c, 0));
  });

  it('round-trips every code and encodes to the nearest value (fast-check)', () => {
    for (let c = 0; c < 16; c++) expect(coding.encode(coding.decode(c, 0), 0)).toBe(c);
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const code = coding.encode(x, 0);
        for (let c = 0; c < 16; c++)
          expect(Math.abs(coding.decode(code, 0) - x)).toBeLessThanOrEqual(Math.abs(coding.decode(c, 0) - x));
      }),
    );
  });

  it('clamps past the ends and rejects NaN/Inf', () => {
    expect(coding.encode(100, 0)).toBe(15);
    expect(coding.encode(-100, 0)).toBe(0);
    expect(() => coding.encode(Number.NaN, 0)).toThrow(/NaN/);
    expect(() => coding.encode(Number.NEGATIVE_INFINITY, 0)).toThrow(RangeError);
  });

  it('a uniform code gives standard-normal values: mean 0, variance near 1', () => {
    const wide = new QuantileCoding({ type: 'quantile', bits: 10, distribution: { type: 'standard-normal' } });
    let sum = 0;
    let sq = 0;
    for (let c = 0; c < 1024; c++) {
      sum += wide.decode(c, 0);
      sq += wide.decode(c, 0) ** 2;
    }
    expect(sum / 1024).toBeCloseTo(0, 6);
    expect(sq / 1024).toBeGreaterThan(0.98);
    expect(sq / 1024).toBeLessThan(1);
  });
});

describe('quantile coding, empirical', () => {
  const probabilities = [0.1, 0.5, 0.9];
  const coding = new QuantileCoding({
    type: 'quantile',
    bits: 2,
    distribution: {
      type: 'empirical',
      probabilities,
      quantiles: [
        [-1, 0, 3],
        [2, 2, 2],
      ],
    },
  });

  it('interpolates linearly in probability and clamps to the table ends, per coordinate', () => {
    // p = 0.125, 0.375, 0.625, 0.875
    expect(coding.decode(0, 0)).toBeCloseTo(-1 + (0.025 / 0.4) * 1, 6);
    expect(coding.decode(1, 0)).toBeCloseTo(-1 + (0.275 / 0.4) * 1, 6);
    expect(coding.decode(2, 0)).toBeCloseTo((0.125 / 0.4) * 3, 6);
    expect(coding.decode(3, 0)).toBeCloseTo((0.375 / 0.4) * 3, 6);
    expect(coding.decode(3, 1)).toBe(2);
    const ends = new QuantileCoding({
      type: 'quantile',
      bits: 3,
      distribution: { type: 'empirical', probabilities, quantiles: [[-1, 0, 3]] },
    });
    expect(ends.decode(0, 0)).toBe(-1); // p = 1/16 < 0.1
    expect(ends.decode(7, 0)).toBe(3); // p = 15/16 > 0.9
  });

  it('a flat table re-encodes to its lowest code', () => {
    for (let c = 0; c < 4; c++) expect(coding.encode(coding.decode(c, 1), 1)).toBe(0);
    expect(coding.encode(-50, 1)).toBe(0);
  });

  it('encodes to the nearest value of the coordinate (fast-check)', () => {
    fc.assert(
      fc.property(fc.float({ min: -5, max: 5, noNaN: true }), (x) => {
        const code = coding.encode(x, 0);
        for (let c = 0; c < 4; c++)
          expect(Math.abs(coding.decode(code, 0) - x)).toBeLessThanOrEqual(Math.abs(coding.decode(c, 0) - x));
      }),
    );
  });
});

describe('quantiseSection', () => {
  it('gives the values a key stores: the same as encoding and decoding a whole key, constants and widened codes included', () => {
    const embedding = small.sections.find((s) => s.kind === 'embedding') as ArraySection;
    const latent = small.sections.find((s) => s.kind === 'latent') as ArraySection;
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 12, maxLength: 12 }),
        fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 18, maxLength: 18 }),
        (emb, lat) => {
          const decoded = decodeKey(parseKey(encodeKey(small, { steps: 4, embedding: emb, latent: lat }), registry));
          expect(quantiseSection(embedding, emb)).toEqual(decoded.embedding);
          expect(quantiseSection(latent, lat)).toEqual(decoded.latent);
        },
      ),
    );
  });

  it('refuses values of the wrong shape', () => {
    const latent = small.sections.find((s) => s.kind === 'latent') as ArraySection;
    expect(() => quantiseSection(latent, [1, 2, 3])).toThrow(KeyError);
  });
});
