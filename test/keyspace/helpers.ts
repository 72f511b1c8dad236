import fc from 'fast-check';
import { BASE64URL, createProfileRegistry, loadProfile, type Profile, type ProfileJson } from '../../keyspace/index.ts';
import { syntheticProfileJson } from './synthetic.ts';

/** A small prefixed profile mixing both codings, a constant and odd widths (3 + 5×? bits, widened to whole chars). */
export const SMALL_JSON: ProfileJson = {
  format: 'lob-keyspace-profile/1',
  id: 'tiny',
  version: 3,
  model: 'test',
  sections: [
    {
      name: 'latent',
      kind: 'latent',
      shape: [2, 3, 3],
      coding: { type: 'quantile', bits: 3, distribution: { type: 'standard-normal' } },
    },
    { name: 'steps', kind: 'steps', values: [4, 8] },
    {
      name: 'embedding',
      kind: 'embedding',
      shape: [3, 4],
      coding: { type: 'minifloat', sign: true, exponentBits: 3, mantissaBits: 2, bias: 12, subnormals: true },
    },
  ],
  constants: [{ section: 'embedding', index: 5, value: -3.5 }],
};

export const synth = loadProfile(syntheticProfileJson());
export const small = loadProfile(SMALL_JSON);
export const registry = createProfileRegistry([synth, small]);

/** Arbitrary payload text of a profile's length over base64url. */
export function payloadArb(profile: Profile): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: profile.chars, maxLength: profile.chars });
}
