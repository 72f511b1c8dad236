import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  availableStrides,
  createProfileRegistry,
  decodeKey,
  encodeKey,
  KeyError,
  loadProfile,
  negativeVariant,
  negativeVariantJson,
  offsetKey,
  ProfileError,
  parseKey,
  randomKey,
  sdLobProfile,
} from '../../keyspace/index.ts';
import { deriveSdProfile } from '../../pipeline/model/profile.ts';
import { SMALL_JSON, small } from './helpers.ts';

const emojiJson = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'models', 'emoji', 'keyspace.json'), 'utf8'),
);

describe('negative-prompt profile variant', () => {
  it("is derived from the model's own profile: <id>-neg, same version, one negative section shaped like the embedding", () => {
    const base = loadProfile(emojiJson);
    const variant = negativeVariant(base);
    expect(variant).not.toBeNull();
    if (!variant) return;
    expect(variant.prefix).toBe(`${base.id}-neg-${base.version}.`);
    expect(base.negative).toBeNull();
    expect(variant.negative?.shape).toEqual(base.embedding.shape);
    expect(variant.negative?.stored.length).toBe(base.embedding.stored.length);
    // the negative section adds its stored bits (rounded up to whole characters)
    const added = variant.negative ? variant.negative.stored.length * variant.negative.coding.bits : 0;
    expect(variant.bits - base.bits).toBeGreaterThanOrEqual(added - 5);
    expect(variant.bits - base.bits).toBeLessThanOrEqual(added + 5);
    expect(availableStrides(variant)).toEqual(availableStrides(base));
  });

  it('round-trips its negative states; constants are copied from the embedding', () => {
    const variant = negativeVariant(small);
    if (!variant) throw new Error('no variant');
    const key = randomKey(variant, 11n);
    const registry = createProfileRegistry([small, variant]);
    const decoded = decodeKey(parseKey(key, registry));
    expect(decoded.profile).toBe(variant);
    expect(decoded.negative).toHaveLength(12);
    expect(decoded.negative?.[5]).toBe(SMALL_JSON.constants?.[0].value);
    // every payload is a key, and encoding what a key decodes to gives the key back
    expect(encodeKey(variant, decoded)).toBe(key);
    const moved = decodeKey(parseKey(offsetKey(parseKey(key, registry), 1, 'shelf'), registry));
    expect(moved.latent).toEqual(decoded.latent);
  });

  it('leaves base keys as they were: a base key decodes without negative states and refuses them', () => {
    const key = randomKey(small, 11n);
    const decoded = decodeKey(parseKey(key, createProfileRegistry([small])));
    expect(decoded.negative).toBeUndefined();
    expect(encodeKey(small, decoded)).toBe(key);
    expect(() => encodeKey(small, { ...decoded, negative: decoded.embedding })).toThrow(KeyError);
    const variant = negativeVariant(small);
    if (!variant) throw new Error('no variant');
    expect(() => encodeKey(variant, decoded)).toThrow(/needs negative prompt states/);
  });

  it('exists for derived SD profiles but not for the bare sd-lob keys', () => {
    const sd = loadProfile(
      deriveSdProfile(
        { lob: undefined } as never,
        {
          tokens: 77,
          hidden: 768,
          latent: [4, 64, 64],
        } as never,
      ),
    );
    expect(negativeVariant(sd)?.prefix).toBe('sd768-64x64-neg-1.');
    expect(negativeVariant(sdLobProfile())).toBeNull();
    expect(() => negativeVariantJson(sdLobProfile().json)).toThrow(ProfileError);
  });

  it('rejects a negative section that is not shaped like the embedding', () => {
    const json = negativeVariantJson(SMALL_JSON);
    const bad = { ...json, sections: json.sections.map((s) => (s.kind === 'negative' ? { ...s, shape: [4, 3] } : s)) };
    expect(() => loadProfile(bad)).toThrow(/must have the embedding's shape/);
  });
});
