import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availableStrides,
  BASE64URL,
  createProfileRegistry,
  decodeKey,
  encodeKey,
  loadProfile,
  nextKey,
  offsetKey,
  type Profile,
  parseKey,
  prevKey,
  randomKey,
  type Stride,
} from '../../keyspace/index.ts';
import { nestedRegions } from '../../keyspace/layout.ts';
import { SMALL_JSON } from './helpers.ts';
import { syntheticProfileJson } from './synthetic.ts';

// The nested order (profile "order": "nested"): next moves a quadrant of the latent by its lowest plane, book flips
// the whole latent's top planes.
const synth = loadProfile({ ...syntheticProfileJson(), id: 'nsynth', order: 'nested' });
const small = loadProfile({ ...SMALL_JSON, id: 'ntiny', order: 'nested' });
// the halves order (emoji-7): a level of left and right halves above the quadrants; next moves a half
const hsynth = loadProfile({ ...syntheticProfileJson(), id: 'hsynth', order: 'halves' });
const hsmall = loadProfile({ ...SMALL_JSON, id: 'htiny', order: 'halves' });
const registry = createProfileRegistry([synth, small, hsynth, hsmall]);
const parse = (text: string) => parseKey(text, registry);
const decode = (text: string) => decodeKey(parse(text));

function strideBitOf(profile: Profile, stride: Stride): number {
  const k = parse(profile.prefix + 'A'.repeat(profile.chars));
  const payload = parse(offsetKey(k, 1n, stride)).payload;
  const last = [...payload].reverse().findIndex((c) => c !== 'A');
  return 6 * last + Math.log2(BASE64URL.indexOf(payload[payload.length - 1 - last]));
}

/** A key whose index has 0 at the stride's bit, so +1 stride flips exactly that bit (no carry). */
function keyWithClearBit(profile: Profile, bit: number, seed: number): string {
  const k = randomKey(profile, seed);
  const at = profile.prefix.length + profile.chars - 1 - Math.floor(bit / 6);
  const digit = BASE64URL.indexOf(k[at]) & ~(1 << (bit % 6));
  return k.slice(0, at) + BASE64URL[digit] + k.slice(at + 1);
}

const latentCodes = (profile: Profile, values: Float32Array) =>
  Array.from(profile.latent.stored, (flat, i) =>
    (i < profile.latent.widened.count ? profile.latent.widened.coding : profile.latent.coding).encode(
      values[flat],
      flat,
    ),
  );

describe.each([
  ['synth', synth],
  ['tiny', small],
  ['halves synth', hsynth],
  ['halves tiny', hsmall],
] as [string, Profile][])('nested order of %s keys', (_, profile) => {
  const keyArb = fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }).map((seed) => randomKey(profile, seed));

  it('is a bijection: every key decodes and re-encodes to itself', () => {
    fc.assert(
      fc.property(keyArb, (k) => {
        expect(encodeKey(profile, decode(k))).toBe(k);
      }),
      { numRuns: 40 },
    );
  });

  it('has one next per stride, and prev undoes it', () => {
    fc.assert(
      fc.property(keyArb, fc.constantFrom(...availableStrides(profile)), (k, stride) => {
        const n = offsetKey(parse(k), 1n, stride);
        expect(n).not.toBe(k);
        expect(offsetKey(parse(n), -1n, stride)).toBe(k);
        expect(prevKey(parse(nextKey(parse(k))))).toBe(k);
      }),
      { numRuns: 40 },
    );
  });
});

describe('nested strides of an emoji-shaped profile (4-bit latent codes)', () => {
  const step = (stride: Stride, seed: number) => {
    const k = keyWithClearBit(synth, strideBitOf(synth, stride), seed);
    return [decode(k), decode(offsetKey(parse(k), 1n, stride))];
  };

  it("page is 1; book lies past the latent's two lower planes, shelf past the whole latent", () => {
    expect(synth.latent.widened.count).toBe(0);
    expect(availableStrides(synth)).toEqual(['page', 'book', 'shelf', 'wall']);
    expect(strideBitOf(synth, 'page')).toBe(0);
    expect(strideBitOf(synth, 'book')).toBe(2 * 1024);
    expect(strideBitOf(synth, 'shelf')).toBe(4 * 1024);
  });

  it('page flips the lowest plane (one code level) of one 8×8×4 quadrant and nothing else', () => {
    for (const seed of [1, 2, 3]) {
      const [a, b] = step('page', seed);
      expect(b.steps).toBe(a.steps);
      expect(b.embedding).toEqual(a.embedding);
      const [ca, cb] = [latentCodes(synth, a.latent), latentCodes(synth, b.latent)];
      const changed = [...ca.keys()].filter((i) => ca[i] !== cb[i]);
      expect(changed).toHaveLength(8 * 8 * 4);
      expect(new Set(changed.map((i) => ca[i] ^ cb[i]))).toEqual(new Set([1]));
      const flat = changed.map((i) => synth.latent.stored[i]);
      expect(new Set(flat.map((f) => `${Math.floor((f % 256) / 128)},${Math.floor((f % 16) / 8)}`)).size).toBe(1);
    }
  });

  it("after the three quadrants' lower planes, one bit flips a lower plane of every latent value (the whole latent)", () => {
    for (const [bit, mask] of [
      [6, 1],
      [7, 2],
    ]) {
      const k = keyWithClearBit(synth, bit, 4);
      const [a, b] = [decode(k), decode(offsetKey(parse(k), 1n << BigInt(bit)))];
      const [ca, cb] = [latentCodes(synth, a.latent), latentCodes(synth, b.latent)];
      expect(new Set(ca.map((c, i) => c ^ cb[i]))).toEqual(new Set([mask]));
    }
  });

  it('book flips the top plane of every latent value: for normal quantiles, every sign', () => {
    const [a, b] = step('book', 5);
    const [ca, cb] = [latentCodes(synth, a.latent), latentCodes(synth, b.latent)];
    expect(new Set(ca.slice(synth.latent.widened.count).map((c, i) => c ^ cb[i + synth.latent.widened.count]))).toEqual(
      new Set([8]),
    );
    for (let i = 0; i < a.latent.length; i++) expect(Math.sign(b.latent[i])).toBe(-Math.sign(a.latent[i]));
  });

  it('shelf keeps the latent and moves one token; wall changes only the steps', () => {
    const [a, b] = step('shelf', 7);
    expect(b.latent).toEqual(a.latent);
    const changed = [...a.embedding.keys()].filter((i) => a.embedding[i] !== b.embedding[i]);
    expect(new Set(changed.map((i) => Math.floor(i / 64)))).toEqual(new Set([1]));
    const [c, d] = step('wall', 8);
    expect(d.latent).toEqual(c.latent);
    expect(d.embedding).toEqual(c.embedding);
    expect(d.steps).not.toBe(c.steps);
  });

  it('one bit of a quadrant lead flips that plane in its 8×8×4 quadrant only', () => {
    const quadrantBit = 4; // the quadrants' lowest planes (bits 0-2), then their plane 2: the second quadrant lead's
    const k = keyWithClearBit(synth, quadrantBit, 9);
    const [a, b] = [decode(k), decode(offsetKey(parse(k), 1n << BigInt(quadrantBit)))];
    const changed = [...a.latent.keys()].filter((i) => a.latent[i] !== b.latent[i]);
    expect(changed).toHaveLength(8 * 8 * 4);
    const quads = new Set(changed.map((f) => `${Math.floor((f % 256) / 128)},${Math.floor((f % 16) / 8)}`));
    expect(quads.size).toBe(1);
  });

  it('keeps random keys uniform: latent codes of random keys spread evenly over all 16 codes', () => {
    const counts = new Array(16).fill(0);
    for (let seed = 0; seed < 8; seed++)
      for (const c of latentCodes(synth, decode(randomKey(synth, seed)).latent).slice(synth.latent.widened.count))
        counts[c]++;
    const total = counts.reduce((s, c) => s + c, 0);
    const chi = counts.reduce((s, c) => s + (c - total / 16) ** 2 / (total / 16), 0);
    expect(chi).toBeLessThan(50);
  });
});

describe('halves order of an emoji-shaped profile', () => {
  const half = (f: number) => Math.floor((f % 16) / 8); // 0: left columns 0-7, 1: right columns 8-15

  it('page flips the lowest plane of one 16×8×4 half, then its plane 2 with the carry; book and shelf stay', () => {
    expect(strideBitOf(hsynth, 'page')).toBe(0);
    expect(strideBitOf(hsynth, 'book')).toBe(2 * 1024);
    expect(strideBitOf(hsynth, 'shelf')).toBe(4 * 1024);
    for (const [bit, mask] of [
      [0, 1],
      [1, 2],
    ]) {
      const k = keyWithClearBit(hsynth, bit, 11 + bit);
      const [a, b] = [decode(k), decode(offsetKey(parse(k), 1n << BigInt(bit)))];
      expect(b.embedding).toEqual(a.embedding);
      const [ca, cb] = [latentCodes(hsynth, a.latent), latentCodes(hsynth, b.latent)];
      const changed = [...ca.keys()].filter((i) => ca[i] !== cb[i]);
      expect(changed).toHaveLength(16 * 8 * 4);
      expect(new Set(changed.map((i) => ca[i] ^ cb[i]))).toEqual(new Set([mask]));
      expect(new Set(changed.map((i) => half(hsynth.latent.stored[i]))).size).toBe(1);
    }
  });

  it('a quadrant bit still flips one 8×8×4 quadrant, inside one half', () => {
    const quadrantBit = 4; // the half's two planes (bits 0-1), the whole latent's (2-3), then the first quadrant's
    const k = keyWithClearBit(hsynth, quadrantBit, 13);
    const [a, b] = [decode(k), decode(offsetKey(parse(k), 1n << BigInt(quadrantBit)))];
    const changed = [...a.latent.keys()].filter((i) => a.latent[i] !== b.latent[i]);
    expect(changed).toHaveLength(8 * 8 * 4);
    expect(new Set(changed.map((f) => `${Math.floor((f % 256) / 128)},${half(f)}`)).size).toBe(1);
  });

  it('nests the halves between the whole latent and the quadrants', () => {
    const r = nestedRegions(hsynth.latent, true);
    expect(r.levels.map((l) => l.length)).toEqual([1, 1, 2, 12, 48]);
    for (let i = 0; i < r.ties.length; i++) if (r.ties[i] >= 0) expect(r.ties[i]).toBeLessThan(i);
  });

  it('names other keys than the nested order for the same codes', () => {
    const values = decode(randomKey(synth, 3));
    const asHalves = encodeKey(hsynth, values);
    expect(asHalves.slice(hsynth.prefix.length)).not.toBe(encodeKey(synth, values).slice(synth.prefix.length));
    expect(decode(asHalves).latent).toEqual(values.latent);
  });
});

describe('nested regions', () => {
  it('nest squares of 2, 4, 8 and 16 positions; parents have lower ordinals and lead a region around the child', () => {
    const r = nestedRegions(synth.latent);
    expect(r.levels.map((l) => l.length)).toEqual([1, 3, 12, 48]);
    const leads = r.levels.flatMap((l) => [...l]);
    expect(leads.length + r.members.length).toBe(synth.latent.stored.length);
    expect(new Set([...leads, ...r.members]).size).toBe(synth.latent.stored.length);
    for (let i = 0; i < r.ties.length; i++) if (r.ties[i] >= 0) expect(r.ties[i]).toBeLessThan(i);
    expect(r.ties[r.levels[0][0]]).toBe(-1);
  });

  it('a profile without the field keeps the tiles order; an unknown order is a profile error', () => {
    expect(loadProfile(SMALL_JSON).order).toBe('tiles');
    expect(() => loadProfile({ ...SMALL_JSON, order: 'spiral' as 'nested' })).toThrow(/\/order/);
  });
});
