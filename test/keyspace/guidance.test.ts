import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availableStrides,
  BASE64URL,
  createProfileRegistry,
  decodeKey,
  distance,
  encodeKey,
  fineVariant,
  GUIDANCE_SCALES,
  guidanceVariant,
  guidanceVariantJson,
  guidedKey,
  KeyError,
  loadProfile,
  negativeVariant,
  negativeVariantJson,
  nextKey,
  offsetKey,
  type Profile,
  ProfileError,
  type ProfileJson,
  parseKey,
  prevKey,
  profileVariants,
  randomKey,
  sdLobProfile,
  walkKeys,
  withVariants,
} from '../../keyspace/index.ts';
import { deriveSdProfile } from '../../pipeline/model/profile.ts';
import { payloadArb, SMALL_JSON, small, synth } from './helpers.ts';

const emojiJson = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'models', 'emoji', 'keyspace.json'), 'utf8'),
) as ProfileJson;
const emoji = loadProfile(emojiJson);
const nested = loadProfile({ ...SMALL_JSON, id: 'nest', order: 'nested' });
const halves = loadProfile({ ...SMALL_JSON, id: 'halv', order: 'halves' });
const NORMAL3 = { type: 'quantile', bits: 3, distribution: { type: 'standard-normal' } } as const;

/** The profile's variants by name, and a registry holding the profile and these very variants. */
function family(base: Profile) {
  const { negative, guidance, negativeGuidance, fine } = profileVariants(base);
  if (!negative || !guidance || !negativeGuidance) throw new Error(`profile ${base.id} lacks a variant`);
  const all = [base, negative, fine, guidance, negativeGuidance].filter((p): p is Profile => p !== null);
  return { guided: guidance, negative, negativeGuided: negativeGuidance, registry: createProfileRegistry(all) };
}

describe('guidance profile variant', () => {
  it('is <id>-cfg, same version, the base sections plus a guidance section of 64 scales (one more character)', () => {
    const { guided, negativeGuided } = family(emoji);
    expect(guided.prefix).toBe(`emoji-cfg-${emoji.version}.`);
    expect(negativeGuided.prefix).toBe(`emoji-neg-cfg-${emoji.version}.`);
    expect(guided.guidance?.values).toEqual(GUIDANCE_SCALES);
    expect(GUIDANCE_SCALES).toHaveLength(64);
    expect(GUIDANCE_SCALES[0]).toBe(1);
    expect(GUIDANCE_SCALES.at(-1)).toBe(16.75);
    expect(GUIDANCE_SCALES).toContain(6); // emoji-ldm's own scale
    expect(GUIDANCE_SCALES).toContain(7.5); // SD 1.5's
    expect(guided.bits).toBe(emoji.bits + 6);
    expect(guided.chars).toBe(emoji.chars + 1);
    // the padding to whole characters is the base profile's: same widened values, same codings
    expect(guided.latent.widened.count).toBe(emoji.latent.widened.count);
    expect(guided.embedding.widened.count).toBe(emoji.embedding.widened.count);
    expect(availableStrides(guided)).toEqual(availableStrides(emoji));
    expect(emoji.guidance).toBeNull();
  });

  it('exists for base and negative profiles (derived SD ones too), not for bare, fine or already guided ones', () => {
    const sd = loadProfile(
      deriveSdProfile({ lob: undefined } as never, { tokens: 77, hidden: 768, latent: [4, 64, 64] } as never),
    );
    expect(guidanceVariant(sd)?.prefix).toBe('sd768-64x64-cfg-1.');
    expect(guidanceVariant(sdLobProfile())).toBeNull();
    const { guided, negativeGuided } = family(small);
    expect(guidanceVariant(guided)).toBeNull();
    expect(negativeVariant(guided)).toBeNull();
    expect(fineVariant(guided)).toBeNull();
    expect(profileVariants(loadProfile(emojiJson)).fine).not.toBeNull();
    expect(negativeGuided.negative).not.toBeNull();
    expect(() => guidanceVariantJson(guided.json)).toThrow(ProfileError);
    expect(() => negativeVariantJson(guided.json)).toThrow(/derive its variants before the guidance one/);
  });

  it.each([
    [[0.5, 2], /must be a number ≥ 1/],
    [[1, 3, 2, 4], /must increase strictly/],
    [[1, 2, 3], /power of 2/],
    [[1, Number.NaN], /must be a number ≥ 1/],
  ])('refuses a guidance section with values %j', (values, message) => {
    const json = guidanceVariantJson(SMALL_JSON);
    const bad = { ...json, sections: json.sections.map((s) => (s.kind === 'guidance' ? { ...s, values } : s)) };
    expect(() => loadProfile(bad)).toThrow(message);
  });

  it.each([
    ['tiny (tiles order)', small],
    ['tiny (nested order)', nested],
    ['tiny (halves order)', halves],
    ['synth', synth],
  ])('%s: every payload string is a key, and re-encoding what it decodes to gives it back', (_, base) => {
    const { guided, negativeGuided, registry } = family(base);
    for (const profile of [guided, negativeGuided]) {
      fc.assert(
        fc.property(payloadArb(profile), (payload) => {
          const key = profile.prefix + payload;
          const decoded = decodeKey(parseKey(key, registry));
          expect(GUIDANCE_SCALES).toContain(decoded.guidance);
          expect(encodeKey(profile, decoded)).toBe(key);
        }),
        { numRuns: 30 },
      );
    }
  });

  it('the encoder needs a scale from the list in a guidance profile and refuses one elsewhere', () => {
    const { guided, registry } = family(small);
    const decoded = decodeKey(parseKey(randomKey(small, 3n), registry));
    expect(() => encodeKey(guided, decoded)).toThrow(/needs a guidance scale/);
    expect(() => encodeKey(small, { ...decoded, guidance: 2 })).toThrow(/has no guidance section/);
    let error: unknown;
    try {
      encodeKey(guided, { ...decoded, guidance: 6.1 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyError);
    expect((error as KeyError).code).toBe('guidance');
    expect((error as KeyError).message).toMatch(/^guidance scale 6\.1 is not one of 1, 1\.25, /);
  });
});

describe('guidedKey: a key at a guidance scale', () => {
  it("is the base key with one character in front naming the scale, and decodes to the base key's values", () => {
    const { guided, registry } = family(emoji);
    const base = parseKey(randomKey(emoji, 42n), registry);
    for (const [code, scale] of [
      [0, 1],
      [20, 6],
      [63, 16.75],
    ]) {
      const text = guidedKey(base, scale, registry);
      expect(text).toBe(guided.prefix + BASE64URL[code] + base.payload);
      const d = decodeKey(parseKey(text, registry));
      const b = decodeKey(base);
      expect(d.profile).toBe(guided);
      expect(d.guidance).toBe(scale);
      expect([d.steps, d.embedding, d.latent]).toEqual([b.steps, b.embedding, b.latent]);
    }
  });

  it('keeps a negative key negative, returns a guided key at its own scale and refuses another scale', () => {
    const { negative, negativeGuided, registry } = family(small);
    const neg = parseKey(randomKey(negative, 5n), registry);
    const text = guidedKey(neg, 2.5, registry);
    const d = decodeKey(parseKey(text, registry));
    expect(d.profile).toBe(negativeGuided);
    expect(d.negative).toEqual(decodeKey(neg).negative);
    expect(guidedKey(parseKey(text, registry), 2.5, registry)).toBe(text);
    expect(() => guidedKey(parseKey(text, registry), 3, registry)).toThrow(/already carries guidance 2\.5, not 3/);
    expect(() => guidedKey(neg, 0.5, registry)).toThrow(KeyError);
  });

  it('refuses keys whose profile has no guidance variant (fine keys, sd-lob)', () => {
    const registry = createProfileRegistry(withVariants(emoji));
    const fine = parseKey(randomKey(fineVariant(emoji) as Profile, 1n), registry);
    expect(() => guidedKey(fine, 2, registry)).toThrow(
      new RegExp(`${emoji.id}-fine-${emoji.version} has no guidance variant`),
    );
  });
});

describe('order of guidance keys', () => {
  it.each([
    ['tiles', small],
    ['nested', nested],
    ['halves', halves],
  ])('%s: next then prev is the identity at every stride, and offsets compose', (_, base) => {
    const { guided, registry } = family(base);
    const parse = (t: string) => parseKey(t, registry);
    const keyArb = fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }).map((seed) => randomKey(guided, seed));
    fc.assert(
      fc.property(
        keyArb,
        fc.constantFrom(...availableStrides(guided)),
        fc.bigInt({ min: -1000n, max: 1000n }),
        (k, stride, n) => {
          expect(prevKey(parse(nextKey(parse(k), stride)), stride)).toBe(k);
          expect(distance(parse(k), parse(offsetKey(parse(k), n, stride)))).toBeGreaterThanOrEqual(0n);
          expect(offsetKey(parse(offsetKey(parse(k), n, stride)), -n, stride)).toBe(k);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('wall steps to the next step count as in the base profile; from the last one it carries into the next scale', () => {
    const { registry } = family(emoji);
    const steps = emoji.steps.values;
    const decode = (t: string) => decodeKey(parseKey(t, registry));
    const start = guidedKey(parseKey(randomKey(emoji, 9n), registry), 6, registry);
    let key = start;
    const seen: [number, number | undefined][] = [];
    for (let i = 0; i <= 2 * steps.length; i++) {
      const d = decode(key);
      seen.push([d.steps, d.guidance]);
      key = nextKey(parseKey(key, registry), 'wall');
    }
    const first = steps.indexOf(seen[0][0]);
    seen.forEach(([s, g], i) => {
      expect(s).toBe(steps[(first + i) % steps.length]);
      expect(g).toBe(6 + 0.25 * Math.floor((first + i) / steps.length));
    });
    // a wall of one step count per stored count moves the scale alone
    const moved = decode(offsetKey(parseKey(start, registry), steps.length, 'wall'));
    expect(moved.steps).toBe(decode(start).steps);
    expect(moved.guidance).toBe(6.25);
    // page, book and shelf keep the scale
    for (const stride of ['page', 'book', 'shelf'] as const)
      expect(decode(nextKey(parseKey(start, registry), stride)).guidance).toBe(6);
  });
});

describe('walks and bare profiles', () => {
  it("a walk between guidance keys keeps a's scale for the first half and b's after; negative states move too", () => {
    const { negativeGuided, registry } = family(small);
    const a = parseKey(randomKey(negativeGuided, 1n), registry);
    const b = parseKey(
      guidedKey(parseKey(randomKey(negativeVariant(small) as Profile, 2n), registry), 9.5, registry),
      registry,
    );
    const frames = walkKeys(a, b, 5).map((k) => decodeKey(parseKey(k, registry)));
    const ga = decodeKey(a).guidance;
    expect(frames.map((f) => f.guidance)).toEqual([ga, ga, 9.5, 9.5, 9.5]);
    expect(frames[2].negative).not.toEqual(frames[0].negative);
  });

  it('a bare profile may carry a guidance field, in its place in the bit stream', () => {
    const bare = loadProfile({
      format: 'lob-keyspace-profile/1',
      id: 'barecfg',
      version: 1,
      model: 'test',
      text: 'bare-base64',
      sections: [
        { name: 'steps', kind: 'steps', values: [4, 8] },
        { name: 'guidance', kind: 'guidance', values: [1, 2, 4, 8] },
        { name: 'embedding', kind: 'embedding', shape: [3], coding: NORMAL3 },
        { name: 'latent', kind: 'latent', shape: [4], coding: NORMAL3 },
      ],
    });
    expect(bare.bits).toBe(24);
    // a registry holds one bare profile (sd-lob), so the key is handed to the decoder as parsed
    for (let seed = 0n; seed < 20n; seed++) {
      const key = randomKey(bare, seed);
      const d = decodeKey({ profile: bare, text: key, payload: key });
      expect([1, 2, 4, 8]).toContain(d.guidance);
      expect(encodeKey(bare, d)).toBe(key);
    }
  });
});
