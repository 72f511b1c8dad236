import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createProfileRegistry,
  decodeKey,
  encodeKey,
  FINE_LATENT_BITS,
  fineVariant,
  fineVariantJson,
  loadProfile,
  negativeVariant,
  nextKey,
  ProfileError,
  parseKey,
  prevKey,
  randomKey,
  sdLobProfile,
  withVariants,
} from '../../keyspace/index.ts';

const emojiJson = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'models', 'emoji', 'keyspace.json'), 'utf8'),
);

describe('fine-latent profile variant (the keys find gives)', () => {
  const base = loadProfile(emojiJson);
  const variants = withVariants(base);
  const fine = variants[2];
  const registry = createProfileRegistry(variants);

  it('is <id>-fine, same version and sections, the latent at 8 bits', () => {
    expect(fine.prefix).toBe(`${base.id}-fine-${base.version}.`);
    expect(fine.latent.coding.bits).toBe(FINE_LATENT_BITS);
    expect(fine.embedding.coding.bits).toBe(base.embedding.coding.bits);
    expect(fine.steps.values).toEqual(base.steps.values);
    // 4 more bits per latent value, give or take the padding to whole characters
    const added = fine.latent.stored.length * (FINE_LATENT_BITS - 4);
    expect(Math.abs(fine.bits - base.bits - added)).toBeLessThan(6);
    expect(withVariants(base).map((p) => p.id)).toEqual([
      'emoji',
      'emoji-neg',
      'emoji-fine',
      'emoji-cfg',
      'emoji-neg-cfg',
    ]);
  });

  it('holds a latent 16 times more finely than the base profile', () => {
    const latent = new Float32Array(base.latent.size).map((_, i) => Math.sin(i * 0.37) * 1.5);
    const embedding = new Float32Array(base.embedding.size);
    const error = (p: typeof base) => {
      const back = decodeKey(parseKey(encodeKey(p, { steps: 16, embedding, latent }), registry)).latent;
      return Math.max(...back.map((v, i) => Math.abs(v - latent[i])));
    };
    expect(error(base)).toBeGreaterThan(0.15);
    expect(error(fine)).toBeLessThan(0.03);
  });

  it('keys are ordinary keys: they round-trip, parse in the registry, and have exactly one next and prev', () => {
    const key = randomKey(fine, 7n);
    const parsed = parseKey(key, registry);
    expect(parsed.profile).toBe(fine);
    expect(encodeKey(fine, decodeKey(parsed))).toBe(key);
    const next = nextKey(parsed);
    expect(next).not.toBe(key);
    expect(prevKey(parseKey(next, registry))).toBe(key);
  });

  it('exists only for prefixed profiles with a coarse quantile latent', () => {
    expect(fineVariant(sdLobProfile())).toBeNull();
    expect(fineVariant(fine)).toBeNull();
    expect(fineVariant(negativeVariant(base) as typeof base)).toBeNull();
    expect(() => fineVariantJson(fine.json)).toThrow(ProfileError);
  });
});
