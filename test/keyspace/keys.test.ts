import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createProfileRegistry,
  decodeKey,
  encodeKey,
  KeyError,
  loadProfile,
  type Profile,
  ProfileError,
  parseKey,
  randomKey,
} from '../../keyspace/index.ts';
import { payloadArb, registry, small, synth } from './helpers.ts';

function keyError(fn: () => unknown): KeyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeyError) return err;
    throw err;
  }
  throw new Error('expected a KeyError');
}

describe.each([
  ['synth (emoji-shaped, empirical + normal quantiles)', synth],
  ['tiny (minifloat with subnormals, constant, widened quantiles)', small],
] as [string, Profile][])('prefixed profile %s', (_, profile) => {
  it('every payload string of the right length decodes, and re-encodes to itself', () => {
    fc.assert(
      fc.property(payloadArb(profile), (payload) => {
        const text = profile.prefix + payload;
        const decoded = decodeKey(parseKey(text, registry));
        expect(profile.steps.values).toContain(decoded.steps);
        expect(decoded.embedding.every(Number.isFinite)).toBe(true);
        expect(decoded.latent.every(Number.isFinite)).toBe(true);
        expect(encodeKey(profile, decoded)).toBe(text);
      }),
      { numRuns: profile === synth ? 60 : 300 },
    );
  });

  it('encode then decode is a fixed point for arbitrary values (fast-check)', () => {
    const { embedding, latent } = profile;
    fc.assert(
      fc.property(
        fc.constantFrom(...profile.steps.values),
        fc.array(fc.float({ min: -40, max: 40, noNaN: true }), {
          minLength: embedding.size,
          maxLength: embedding.size,
        }),
        fc.array(fc.float({ min: -6, max: 6, noNaN: true }), { minLength: latent.size, maxLength: latent.size }),
        (steps, e, l) => {
          const once = decodeKey(parseKey(encodeKey(profile, { steps, embedding: e, latent: l }), registry));
          expect(once.steps).toBe(steps);
          const text = encodeKey(profile, once);
          const twice = decodeKey(parseKey(text, registry));
          expect(twice.embedding).toEqual(once.embedding);
          expect(twice.latent).toEqual(once.latent);
        },
      ),
      { numRuns: profile === synth ? 20 : 200 },
    );
  });

  it('distinct payloads are distinct code sequences (one flipped character changes the decoded values)', () => {
    const text = randomKey(profile, 7);
    const at = profile.prefix.length + 3;
    const flipped = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const a = decodeKey(parseKey(text, registry));
    const b = decodeKey(parseKey(flipped, registry));
    expect(
      a.steps !== b.steps ||
        !a.embedding.every((v, i) => v === b.embedding[i]) ||
        !a.latent.every((v, i) => v === b.latent[i]),
    ).toBe(true);
  });
});

describe('constants', () => {
  it('are not stored, decode to their value and are ignored by the encoder', () => {
    const d = decodeKey(parseKey(randomKey(small, 1), registry));
    expect(d.embedding[5]).toBe(-3.5);
    const embedding = d.embedding.slice();
    embedding[5] = 123;
    expect(encodeKey(small, { ...d, embedding })).toBe(encodeKey(small, d));
  });
});

describe('malformed keys', () => {
  const good = randomKey(synth, 1); // synth-1.<1365 chars>

  const cases: [string, string, string, number][] = [
    ['unknown profile', `nope-1.${good.slice(8)}`, 'profile', 0],
    ['unknown version', `synth-2.${good.slice(8)}`, 'version', 6],
    ['version not a number', `synth-x.${good.slice(8)}`, 'prefix', 6],
    ['no version', `synth.${good.slice(8)}`, 'prefix', 5],
    ['upper-case prefix', `Synth-1.${good.slice(8)}`, 'prefix', 0],
    ['version with a leading zero', `synth-01.${good.slice(8)}`, 'prefix', 6],
    ['too short', good.slice(0, -1), 'length', good.length - 1],
    ['too long', `${good}A`, 'length', good.length],
    ['+ is not base64url', `${good.slice(0, 100)}+${good.slice(101)}`, 'alphabet', 100],
    ['a space', `${good.slice(0, 20)} ${good.slice(21)}`, 'alphabet', 20],
    ['non-ASCII', `${good.slice(0, 9)}é${good.slice(10)}`, 'alphabet', 9],
    ['a second dot', `${good.slice(0, 30)}.${good.slice(31)}`, 'alphabet', 30],
    ['sd-lob written with a prefix', `sd-lob-1.${'A'.repeat(189_436)}`, 'profile', 0],
  ];
  it('a key of another version says which versions exist', () => {
    const err = keyError(() => parseKey(`synth-2.${good.slice(8)}`, registry));
    expect(err.message).toContain('profile "synth" has no version 2 at index 6 (known: 1;');
  });

  it('a key of an earlier edition names the edition that draws it and how to run it', () => {
    const v3 = loadProfile({
      ...synth.json,
      version: 3,
      editions: [{ version: 2, model: 'synth-ldm 2.0.1', tag: 'synth-ldm-2.0.1', commit: 'f775d3f' }],
    });
    const err = keyError(() => parseKey(`synth-2.${good.slice(8)}`, createProfileRegistry([v3])));
    expect(err.code).toBe('version');
    expect(err.index).toBe(6);
    expect(err.message).toContain('this is a synth-2 key');
    expect(err.message).toContain('drawn by synth-ldm 2.0.1');
    expect(err.message).toContain('git checkout synth-ldm-2.0.1');
    expect(err.message).toContain('npx lob render KEY');
    // the commit opens the edition in a clone that carries the branch without its tags
    expect(err.message).toContain('a clone without the tag: `git checkout f775d3f`');
    // a version no edition names still lists the known versions
    expect(keyError(() => parseKey(`synth-1.${good.slice(8)}`, createProfileRegistry([v3]))).message).toContain(
      'has no version 1',
    );
  });

  it('editions must be earlier versions with a model, a git tag and, if given, a commit hash', () => {
    for (const editions of [
      [{ version: 3, model: 'm', tag: 't' }],
      [{ version: 1, model: '', tag: 't' }],
      [{ version: 1, model: 'm', tag: 'a tag' }],
      [{ version: 1, model: 'm', tag: 't', commit: 'HEAD' }],
      [{ version: 1, model: 'm', tag: 't', commit: 'abc' }],
      {},
    ]) {
      expect(() => loadProfile({ ...synth.json, version: 3, editions })).toThrow(ProfileError);
    }
  });

  for (const [label, text, code, index] of cases) {
    it(`${label} → ${code} at index ${index}`, () => {
      const err = keyError(() => parseKey(text, registry));
      expect(err.code).toBe(code);
      expect(err.index).toBe(index);
      // text that is no key at all is said in plain words; a key with a bad character or length names its index
      if (['unknown profile', 'no version', 'upper-case prefix'].includes(label))
        expect(err.message).toMatch(
          /is not a key of any known profile: a key is .*"synth-1\." and 1,365 more characters/,
        );
      else if (code === 'profile')
        expect(err.message).toBe('sd-lob keys are written bare, without the "sd-lob-1." in front');
      else expect(err.message).toContain(`index ${index}`);
      expect(err.message).not.toMatch(/\[\w+ at index/);
    });
  }

  it('text that is no key says so in plain words, and names the bare form only when there is one', () => {
    const err = keyError(() => parseKey('not-a-key', registry));
    expect(err.message).toMatch(/^"not-a-key" is not a key of any known profile: a key is /);
    expect(err.message).toContain('"synth-1." and 1,365 more characters');
    expect(err.message).toContain('189,436 characters with no prefix (sd-lob)');
    expect(err.message).not.toMatch(/alphabet|payload|index/);
    expect(keyError(() => parseKey('x'.repeat(500), registry)).message).toMatch(/^This text \(500 characters\) is not/);
  });

  it('an unprefixed key with no bare profile is a prefix error', () => {
    const noBare = { ...createProfileRegistry([synth]), bare: undefined };
    expect(keyError(() => parseKey('abc', noBare)).code).toBe('prefix');
  });

  it('a valid key of a version that exists but is not the newest resolves to that version', () => {
    const v2 = { ...synth.json, version: 2 };
    const reg = createProfileRegistry([
      synth,
      ...[v2].map((j) => ({ ...synth, version: j.version, prefix: 'synth-2.', json: j })),
    ]);
    expect(parseKey(good, reg).profile.version).toBe(1);
    expect(parseKey(`synth-2.${good.slice(8)}`, reg).profile.version).toBe(2);
  });
});
