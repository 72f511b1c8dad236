import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BASE64,
  createProfileRegistry,
  decodeKey,
  encodeKey,
  KeyError,
  nextKey,
  parseKey,
  prevKey,
  randomKey,
  sdLobProfile,
  toFloat16Array,
} from '../../keyspace/index.ts';

// Vectors made by the seed project's own code (see ../shared/specs/sd-lob-keys.md), copied into our fixtures.
interface Vector {
  key_chars: number;
  key_sha256: string;
  steps: number;
  embedding_shape: number[];
  latent_shape: number[];
  embedding_f16le_sha256: string;
  latent_f16le_sha256: string;
  embedding_first8: number[];
  latent_first8: number[];
  next_key_sha256: string;
  prev_key_sha256: string;
}

const fixture = (name: string) => new URL(`../fixtures/sd-lob/${name}`, import.meta.url);
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const f16sha = (values: Float32Array) => sha256(new Uint8Array(toFloat16Array(values).buffer));

const registry = createProfileRegistry();

for (const name of ['packed-11-1', 'random-11-0']) {
  describe(`sd-lob vector ${name}`, () => {
    const text = readFileSync(fixture(`${name}.key`), 'utf8');
    const want = JSON.parse(readFileSync(fixture(`${name}.json`), 'utf8')) as Vector;

    it('is the fixture the vector describes', () => {
      expect(text.length).toBe(want.key_chars);
      expect(sha256(text)).toBe(want.key_sha256);
    });

    const parsed = parseKey(text, registry);
    const decoded = decodeKey(parsed);

    it('is recognised bare, without a prefix', () => {
      expect(parsed.profile.id).toBe('sd-lob');
      expect(parsed.profile.chars).toBe(189_436);
      expect(parsed.profile.bits).toBe(1_136_616);
    });

    it('decodes to the same steps and float16 arrays', () => {
      expect(decoded.steps).toBe(want.steps);
      expect(decoded.embedding.length).toBe(want.embedding_shape.reduce((a, b) => a * b));
      expect(decoded.latent.length).toBe(want.latent_shape.reduce((a, b) => a * b));
      expect(f16sha(decoded.embedding)).toBe(want.embedding_f16le_sha256);
      expect(f16sha(decoded.latent)).toBe(want.latent_f16le_sha256);
      expect(Array.from(decoded.embedding.subarray(0, 8))).toEqual(want.embedding_first8);
      expect(Array.from(decoded.latent.subarray(0, 8))).toEqual(want.latent_first8);
    });

    it('holds the two constant embedding values', () => {
      expect(decoded.embedding[19]).toBe(-28.078125);
      expect(decoded.embedding[681]).toBe(33.09375);
    });

    it('re-encodes to the identical key text', () => {
      expect(encodeKey(parsed.profile, decoded)).toBe(text);
    });

    it("has the seed's next and prev keys", () => {
      expect(sha256(nextKey(parsed))).toBe(want.next_key_sha256);
      expect(sha256(prevKey(parsed))).toBe(want.prev_key_sha256);
    });
  });
}

describe('sd-lob encoding where the seed goes wrong', () => {
  const profile = sdLobProfile();
  const base = decodeKey(parseKey(readFileSync(fixture('random-11-0.key'), 'utf8'), registry));

  it('clamps out-of-range latents to the largest magnitude (the seed wraps 5.0 to 7.6e-5)', () => {
    const latent = base.latent.slice();
    latent[0] = 5;
    latent[1] = -1e6;
    const back = decodeKey(parseKey(encodeKey(profile, { ...base, latent }), registry));
    expect(back.latent[0]).toBe(2 * (2 - 2 ** -10));
    expect(back.latent[1]).toBe(-2 * (2 - 2 ** -10));
  });

  it('keeps the sign of values below the smallest magnitude (the seed makes them +smallest)', () => {
    const embedding = base.embedding.slice();
    embedding[0] = -1e-9;
    embedding[1] = 0;
    const back = decodeKey(parseKey(encodeKey(profile, { ...base, embedding }), registry));
    expect(back.embedding[0]).toBe(-(2 ** -11));
    expect(back.embedding[1]).toBe(2 ** -11);
  });

  it('rejects NaN with the value index, wrong lengths and step counts', () => {
    const embedding = base.embedding.slice();
    embedding[1234] = Number.NaN;
    const err = (() => {
      try {
        encodeKey(profile, { ...base, embedding });
      } catch (e) {
        return e as KeyError;
      }
    })();
    expect(err).toBeInstanceOf(KeyError);
    expect(err?.code).toBe('value');
    expect(err?.index).toBe(1234);
    expect(() => encodeKey(profile, { ...base, latent: base.latent.subarray(1) })).toThrow(/latent needs 16640 values/);
    expect(() => encodeKey(profile, { ...base, steps: 65 })).toThrow(/steps 65 is not one of/);
  });
});

describe('sd-lob key text', () => {
  it('every random string over the alphabet decodes to finite non-zero values and re-encodes to itself', () => {
    for (let seed = 0; seed < 3; seed++) {
      const key = randomKey(sdLobProfile(), seed);
      const d = decodeKey(parseKey(key, registry));
      expect(encodeKey(sdLobProfile(), d)).toBe(key);
      expect(d.steps).toBeGreaterThanOrEqual(1);
      expect(d.steps).toBeLessThanOrEqual(64);
      expect(d.latent.every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
      expect(d.embedding.every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
    }
  });

  it('the all-A and all-/ keys wrap into each other', () => {
    const low = 'A'.repeat(189_436);
    const high = '/'.repeat(189_436);
    expect(prevKey(parseKey(low, registry))).toBe(high);
    expect(nextKey(parseKey(high, registry))).toBe(low);
  });

  it('names the first character outside standard base64 and a wrong length', () => {
    const text = `${'A'.repeat(1000)}-${'A'.repeat(189_435 - 1000)}`;
    expect(() => parseKey(text, registry)).toThrow(expect.objectContaining({ code: 'alphabet', index: 1000 }));
    expect(() => parseKey(BASE64.repeat(2), registry)).toThrow(
      expect.objectContaining({ code: 'prefix', message: expect.stringMatching(/is not a key of any known profile/) }),
    );
    expect(() => parseKey('A'.repeat(189_000), registry)).toThrow(
      expect.objectContaining({ code: 'length', index: 189_000 }),
    );
    expect(() => parseKey(`${'A'.repeat(189_436)}B`, registry)).toThrow(
      expect.objectContaining({ code: 'length', index: 189_436 }),
    );
  });
});
