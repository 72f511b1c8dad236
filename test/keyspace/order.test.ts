import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availableStrides,
  BASE64URL,
  createProfileRegistry,
  type DecodedKey,
  decodeKey,
  distance,
  KeyError,
  loadProfile,
  nextKey,
  offsetKey,
  type Profile,
  parseKey,
  prevKey,
  randomKey,
  sdLobProfile,
} from '../../keyspace/index.ts';
import { spreadOrder } from '../../keyspace/layout.ts';
import { registry, SMALL_JSON, small, synth } from './helpers.ts';

const parse = (text: string) => parseKey(text, registry);
const decode = (text: string) => decodeKey(parse(text));
const changed = (a: Float32Array, b: Float32Array) => [...a.keys()].filter((i) => a[i] !== b[i]);

describe.each([
  ['synth', synth],
  ['tiny', small],
] as [string, Profile][])('order of %s keys', (_, profile) => {
  const size = 1n << BigInt(profile.bits);
  const keyArb = fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }).map((seed) => randomKey(profile, seed));

  it('offset by the distance lands on the other key; distances of a pair sum to the library size', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        const d = distance(parse(a), parse(b));
        expect(d >= 0n && d < size).toBe(true);
        expect(offsetKey(parse(a), d)).toBe(b);
        expect(offsetKey(parse(b), -d)).toBe(a);
        if (a !== b) expect(d + distance(parse(b), parse(a))).toBe(size);
      }),
      { numRuns: 50 },
    );
  });

  it('offsets compose for any bigint, wrapping modulo the library size', () => {
    fc.assert(
      fc.property(
        keyArb,
        fc.bigInt({ min: -(size * 3n), max: size * 3n }),
        fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
        (k, m, n) => {
          expect(offsetKey(parse(offsetKey(parse(k), m)), n)).toBe(offsetKey(parse(k), m + n));
          expect(distance(parse(k), parse(offsetKey(parse(k), m)))).toBe(((m % size) + size) % size);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('next and prev are ±1 page and undo each other; the ends wrap', () => {
    const k = parse(randomKey(profile, 3));
    expect(prevKey(parse(nextKey(k)))).toBe(k.text);
    expect(distance(k, parse(nextKey(k)))).toBe(1n);
    expect(offsetKey(k, size + 1n)).toBe(nextKey(k));
    expect(offsetKey(k, 0n)).toBe(k.text);
    const first = profile.prefix + 'A'.repeat(profile.chars);
    const last = profile.prefix + '_'.repeat(profile.chars);
    expect(prevKey(parse(first))).toBe(last);
    expect(nextKey(parse(last))).toBe(first);
  });
});

/** A key whose index has 0 at the stride's bit, so +1 stride flips exactly that bit (no carry). */
function keyWithClearBit(profile: Profile, bit: number): string {
  const k = randomKey(profile, 11);
  const at = profile.prefix.length + profile.chars - 1 - Math.floor(bit / 6);
  const digit = BASE64URL.indexOf(k[at]) & ~(1 << (bit % 6));
  return k.slice(0, at) + BASE64URL[digit] + k.slice(at + 1);
}

function strideBitOf(profile: Profile, stride: 'page' | 'book' | 'shelf' | 'wall'): number {
  const k = parse(profile.prefix + 'A'.repeat(profile.chars));
  const d = distance(k, parse(offsetKey(k, 1n, stride)));
  return d.toString(2).length - 1;
}

describe('strides of an emoji-shaped profile', () => {
  const step = (stride: 'page' | 'book' | 'shelf' | 'wall'): [DecodedKey, DecodedKey] => {
    const k = keyWithClearBit(synth, strideBitOf(synth, stride));
    return [decode(k), decode(offsetKey(parse(k), 1n, stride))];
  };

  it('offers page, book, shelf and wall, each a power of two pages, coarsest last', () => {
    expect(availableStrides(synth)).toEqual(['page', 'book', 'shelf', 'wall']);
    const bits = (['page', 'book', 'shelf', 'wall'] as const).map((s) => strideBitOf(synth, s));
    expect(bits).toEqual([0, 3 * 1024, 4 * 1024, 4 * 1024 + 4 * 1023]);
  });

  it('page (next) changes the second bit of one latent value, mid-image, nothing else', () => {
    const [a, b] = step('page');
    expect(b.steps).toBe(a.steps);
    expect(changed(a.embedding, b.embedding)).toEqual([]);
    expect(changed(a.latent, b.latent)).toEqual([8 * 16 + 8]); // channel 0, row 8, column 8
    const table = synth.latent.coding;
    const code = (v: number) => table.encode(v, 0);
    expect(code(b.latent[136]) - code(a.latent[136])).toBe(4); // bit 2 of a 4-bit code
  });

  it('book flips the top bit of one latent value: its sign changes', () => {
    const [a, b] = step('book');
    expect(changed(a.embedding, b.embedding)).toEqual([]);
    const diff = changed(a.latent, b.latent);
    expect(diff).toHaveLength(1);
    expect(Math.sign(a.latent[diff[0]])).toBe(-Math.sign(b.latent[diff[0]]));
  });

  it('shelf keeps the latent and nudges the prompt embedding; wall changes only the step count', () => {
    const [a, b] = step('shelf');
    expect(changed(a.latent, b.latent)).toEqual([]);
    expect(changed(a.embedding, b.embedding)).toHaveLength(1);
    expect(b.steps).toBe(a.steps);
    const [c, d] = step('wall');
    expect(changed(c.latent, d.latent)).toEqual([]);
    expect(changed(c.embedding, d.embedding)).toEqual([]);
    expect(synth.steps.values.indexOf(d.steps) - synth.steps.values.indexOf(c.steps)).toBe(1);
  });

  it('a profile with a single step count has no wall stride', () => {
    const json = structuredClone(SMALL_JSON);
    json.id = 'onestep';
    (json.sections[1] as { values: number[] }).values = [4];
    const profile = loadProfile(json);
    const reg = createProfileRegistry([profile]);
    expect(availableStrides(profile)).toEqual(['page', 'book', 'shelf']);
    const k = parseKey(randomKey(profile, 1), reg);
    expect(() => offsetKey(k, 1n, 'wall')).toThrow(KeyError);
    expect(() => offsetKey(k, 1n, 'wall')).toThrow(/no "wall" stride/);
  });
});

describe('sd-lob order', () => {
  const text = readFileSync(new URL('../fixtures/sd-lob/random-11-0.key', import.meta.url), 'utf8');
  const k = parseKey(text, registry);

  it('next changes only the last characters; offset and distance agree over the 1,136,616-bit index', () => {
    const n = nextKey(k);
    expect(n.slice(0, -2)).toBe(text.slice(0, -2));
    const far = offsetKey(k, -(10n ** 300n));
    expect(distance(k, parseKey(far, registry))).toBe((1n << 1_136_616n) - 10n ** 300n);
    expect(offsetKey(parseKey(far, registry), 10n ** 300n)).toBe(text);
  });

  it('book keeps the latent (the last 41,600 characters) and changes the embedding', () => {
    expect(availableStrides(sdLobProfile())).toEqual(['page', 'book']);
    const b = offsetKey(k, 1n, 'book');
    expect(b.slice(-41_600)).toBe(text.slice(-41_600));
    const [x, y] = [decodeKey(k), decodeKey(parseKey(b, registry))];
    expect(changed(x.latent, y.latent)).toEqual([]);
    expect(changed(x.embedding, y.embedding).length).toBeGreaterThan(0);
    expect(() => offsetKey(k, 1n, 'shelf')).toThrow(/no "shelf" stride/);
  });

  it('keys of different profiles have no distance', () => {
    expect(() => distance(k, parseKey(randomKey(synth, 1), registry))).toThrow(
      expect.objectContaining({ code: 'profile' }),
    );
  });
});

describe('spread order within a bit plane', () => {
  it('is a permutation starting at the latent centre and at token 1 of the embedding', () => {
    for (const section of [synth.latent, synth.embedding, small.latent, small.embedding]) {
      const order = spreadOrder(section);
      expect(new Set(order).size).toBe(section.stored.length);
      expect(Math.min(...order)).toBe(0);
      expect(Math.max(...order)).toBe(section.stored.length - 1);
    }
    expect(synth.latent.stored[spreadOrder(synth.latent)[0]]).toBe(8 * 16 + 8);
    expect(synth.embedding.stored[spreadOrder(synth.embedding)[0]]).toBe(64 + 32);
  });
});
