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
import { groupsOf, latentTile, spreadOrder } from '../../keyspace/layout.ts';
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
  const latentCode = (v: number) => synth.latent.coding.encode(v, 0);
  /** The centre tile of the synth latent: rows 8–9, columns 8–9, all 4 channels. */
  const centreTile = [0, 1, 2, 3].flatMap((c) =>
    [8 * 16 + 8, 8 * 16 + 9, 9 * 16 + 8, 9 * 16 + 9].map((p) => c * 256 + p),
  );

  it('offers page, book, shelf and wall, each a power of two pages, coarsest last', () => {
    expect(availableStrides(synth)).toEqual(['page', 'book', 'shelf', 'wall']);
    const bits = (['page', 'book', 'shelf', 'wall'] as const).map((s) => strideBitOf(synth, s));
    // page: 64 tile leads × planes 1–3; book: the leads' top plane, then the 960 members' 4 planes
    expect(bits).toEqual([0, 3 * 64, 4 * 1024, 4 * 1024 + 4 * 1023]);
  });

  it('page (next) moves the second bit of every value of one latent tile (2×2 positions × 4 channels), mid-image', () => {
    const [a, b] = step('page');
    expect(b.steps).toBe(a.steps);
    expect(changed(a.embedding, b.embedding)).toEqual([]);
    expect(changed(a.latent, b.latent).sort((x, y) => x - y)).toEqual(centreTile.sort((x, y) => x - y));
    for (const i of centreTile) expect(latentCode(a.latent[i]) ^ latentCode(b.latent[i])).toBe(4); // bit 2 of 4
  });

  it('book flips the top bit of every value of one latent tile: their signs change', () => {
    const [a, b] = step('book');
    expect(changed(a.embedding, b.embedding)).toEqual([]);
    const diff = changed(a.latent, b.latent);
    expect(diff).toHaveLength(16);
    for (const i of diff) {
      expect(latentCode(a.latent[i]) ^ latentCode(b.latent[i])).toBe(8);
      expect(Math.sign(a.latent[i])).toBe(-Math.sign(b.latent[i]));
    }
  });

  it('shelf keeps the latent and moves the second bit of every dimension of token 1; wall changes only the steps', () => {
    const [a, b] = step('shelf');
    expect(changed(a.latent, b.latent)).toEqual([]);
    expect(changed(a.embedding, b.embedding)).toEqual(Array.from({ length: 64 }, (_, d) => 64 + d));
    const code = (v: number, i: number) => synth.embedding.coding.encode(v, i);
    for (let i = 64; i < 128; i++) expect(code(a.embedding[i], i) ^ code(b.embedding[i], i)).toBe(4);
    expect(b.steps).toBe(a.steps);
    const [c, d] = step('wall');
    expect(changed(c.latent, d.latent)).toEqual([]);
    expect(changed(c.embedding, d.embedding)).toEqual([]);
    expect(synth.steps.values.indexOf(d.steps) - synth.steps.values.indexOf(c.steps)).toBe(1);
  });

  it('one bit of a tied member changes that value alone', () => {
    // the lowest bit of the member region (just past the leads' top plane) belongs to one member value
    const bit = strideBitOf(synth, 'book') + 64;
    const k = keyWithClearBit(synth, bit);
    const [a, b] = [decode(k), decode(offsetKey(parse(k), 1n << BigInt(bit)))];
    expect(changed(a.latent, b.latent)).toHaveLength(1);
    expect(changed(a.embedding, b.embedding)).toEqual([]);
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

describe('tied groups', () => {
  it('tile the latent (2×2 positions × all channels for 16×16) and group the embedding by token', () => {
    expect(latentTile(synth.latent)).toBe(2);
    const lat = groupsOf(synth.latent);
    expect(lat.leads).toHaveLength(64);
    expect(lat.members).toHaveLength(1024 - 64);
    for (const m of lat.members) {
      const [f, l] = [synth.latent.stored[m], synth.latent.stored[lat.ties[m]]];
      expect(Math.floor((f % 256) / 32)).toBe(Math.floor((l % 256) / 32)); // same pair of rows
      expect(Math.floor((f % 16) / 2)).toBe(Math.floor((l % 16) / 2)); // same pair of columns
    }
    expect(synth.latent.stored[lat.leads[0]]).toBe(8 * 16 + 8); // the centre tile first
    const emb = groupsOf(synth.embedding);
    expect(emb.leads).toHaveLength(16);
    for (const m of emb.members)
      expect(Math.floor(synth.embedding.stored[m] / 64)).toBe(Math.floor(synth.embedding.stored[emb.ties[m]] / 64));
    expect(Math.floor(synth.embedding.stored[emb.leads[0]] / 64)).toBe(1); // token 1 first
  });

  it('leave widened values (one bit more) alone, and every value is a lead or tied to one lead', () => {
    for (const section of [small.latent, small.embedding, synth.latent, synth.embedding]) {
      const g = groupsOf(section);
      expect(g.leads.length + g.members.length).toBe(section.stored.length);
      expect(new Set([...g.leads, ...g.members]).size).toBe(section.stored.length);
      for (const lead of g.leads) expect(g.ties[lead]).toBe(-1);
      for (const m of g.members) {
        expect(g.leads).toContain(g.ties[m]);
        expect(m).toBeGreaterThanOrEqual(section.widened.count);
        expect(g.ties[m]).toBeGreaterThanOrEqual(section.widened.count);
      }
    }
    expect(small.latent.widened.count).toBe(5);
    expect(latentTile(small.latent)).toBe(1); // 3×3: one position, both channels
  });

  it('keep random keys uniform: the latent codes of random keys spread evenly over all 16 codes', () => {
    const counts = new Array(16).fill(0);
    for (let seed = 0; seed < 8; seed++) {
      const d = decode(randomKey(synth, seed));
      for (const v of d.latent) counts[synth.latent.coding.encode(v, 0)]++;
    }
    // 8192 draws, 512 expected per code: a chi-square over 15 degrees of freedom stays far below 50
    const chi = counts.reduce((s, c) => s + (c - 512) ** 2 / 512, 0);
    expect(chi).toBeLessThan(50);
  });
});
