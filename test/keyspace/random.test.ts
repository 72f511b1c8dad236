import { describe, expect, it } from 'vitest';
import { BASE64, parseKey, randomKey, sdLobProfile } from '../../keyspace/index.ts';
import { registry, small, synth } from './helpers.ts';

describe('randomKey', () => {
  it('is reproducible from a seed and differs between seeds (including sign and bigints)', () => {
    expect(randomKey(synth, 42)).toBe(randomKey(synth, 42));
    const keys = new Set([0, 1, -1, 2, 42].map((s) => randomKey(synth, s)));
    keys.add(randomKey(synth, 2n ** 64n + 1n));
    keys.add(randomKey(synth, 1n));
    expect(keys.size).toBe(6); // 1 and 1n are the same seed
  });

  it('gives valid keys of every profile', () => {
    for (const profile of [synth, small, sdLobProfile()]) {
      for (const key of [randomKey(profile), randomKey(profile, 5)])
        expect(parseKey(key, registry).profile).toBe(profile);
    }
  });

  it('uses every digit about equally (crypto and seeded)', () => {
    for (const key of [randomKey(sdLobProfile()), randomKey(sdLobProfile(), 9)]) {
      const counts = new Map<string, number>();
      for (const c of key) counts.set(c, (counts.get(c) ?? 0) + 1);
      expect(counts.size).toBe(64);
      const expected = key.length / 64; // ≈ 2960, standard deviation ≈ 54
      for (const c of BASE64) expect(Math.abs((counts.get(c) ?? 0) - expected)).toBeLessThan(expected * 0.15);
    }
  });

  it('two cryptographic keys differ', () => {
    expect(randomKey(synth)).not.toBe(randomKey(synth));
  });
});
