import { describe, expect, it } from 'vitest';
import { decodeKey, MAX_WALK_FRAMES, parseKey, randomKey, walkKeys } from '../../keyspace/index.ts';
import { slerp } from '../../keyspace/walk.ts';
import { registry, small, synth } from './helpers.ts';

const parse = (text: string) => parseKey(text, registry);
const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('walks between two keys', () => {
  const [a, b] = [randomKey(synth, 1), randomKey(synth, 2)];

  it('start at A, end at B, and every frame is a key of the profile', () => {
    const keys = walkKeys(parse(a), parse(b), 9);
    expect(keys).toHaveLength(9);
    expect([keys[0], keys[8]]).toEqual([a, b]);
    for (const k of keys) expect(parse(k).profile).toBe(synth);
    expect(new Set(keys).size).toBe(9);
    expect(walkKeys(parse(a), parse(b), 9)).toEqual(keys); // deterministic
  });

  it('move the embedding in a line and keep the latent at the size of noise', () => {
    const keys = walkKeys(parse(a), parse(b), 5);
    const [ea, eb, mid] = [decodeKey(parse(a)), decodeKey(parse(b)), decodeKey(parse(keys[2]))];
    // the middle frame's embedding is near the average of the ends (within the 4-bit quantisation)
    let off = 0;
    for (let i = 0; i < ea.embedding.length; i++)
      off += Math.abs(mid.embedding[i] - (ea.embedding[i] + eb.embedding[i]) / 2);
    const spread = ea.embedding.reduce((s, v, i) => s + Math.abs(v - eb.embedding[i]), 0);
    expect(off).toBeLessThan(spread / 2);
    // a straight line would shrink two independent noises by √2 mid-way; the great circle does not
    expect(norm(mid.latent) / norm(ea.latent)).toBeGreaterThan(0.9);
    const s = slerp(Float32Array.of(1, 0), Float32Array.of(0, 1), 0.5);
    expect(norm(s)).toBeCloseTo(1, 10);
  });

  it('refuses keys of two profiles and frame counts out of range', () => {
    expect(() => walkKeys(parse(a), parse(randomKey(small, 1)), 4)).toThrow(/one profile/);
    expect(() => walkKeys(parse(a), parse(b), 1)).toThrow(RangeError);
    expect(() => walkKeys(parse(a), parse(b), MAX_WALK_FRAMES + 1)).toThrow(RangeError);
  });
});
