import { KeyError } from './errors.ts';
import { Minifloat } from './minifloat.ts';
import type { ArraySection, DiscreteSection, Profile } from './profile.ts';

/** What a key stands for: the step count and the two arrays the pipeline needs, row-major. */
export interface KeyValues {
  steps: number;
  embedding: Float32Array;
  latent: Float32Array;
  /** The negative prompt's text states: present exactly when the profile has a negative section. */
  negative?: Float32Array;
  /** The classifier-free guidance scale: present exactly when the profile has a guidance section. */
  guidance?: number;
}

export interface DecodedKey extends KeyValues {
  profile: Profile;
}

/** Input to the encoder: any numbers are rounded to float32 first (the codings round from float32). */
export interface KeyInput {
  steps: number;
  embedding: ArrayLike<number>;
  latent: ArrayLike<number>;
  /** Required by a profile with a negative section, refused by one without. */
  negative?: ArrayLike<number>;
  /** Required by a profile with a guidance section (one of its scales), refused by one without. */
  guidance?: number;
}

/** The input's negative states, checked against the profile: a key either carries them or not, never silently. */
export function checkedNegative(profile: Profile, input: KeyInput): Float32Array | null {
  if (profile.negative === null) {
    if (input.negative !== undefined)
      throw new KeyError('shape', -1, `profile ${profile.id}-${profile.version} has no negative section`);
    return null;
  }
  if (input.negative === undefined)
    throw new KeyError('shape', -1, `profile ${profile.id}-${profile.version} needs negative prompt states`);
  return checkedArray(profile.negative, input.negative);
}

/** The input's guidance code, checked against the profile like the negative states: carried, or not, never silently. */
export function checkedGuidance(profile: Profile, input: KeyInput): number | null {
  if (profile.guidance === null) {
    if (input.guidance !== undefined)
      throw new KeyError('shape', -1, `profile ${profile.id}-${profile.version} has no guidance section`);
    return null;
  }
  if (input.guidance === undefined)
    throw new KeyError('shape', -1, `profile ${profile.id}-${profile.version} needs a guidance scale`);
  return discreteCode(profile.guidance, input.guidance);
}

/** The code of a step count or guidance scale: its index in the section's list (a KeyError named by the kind). */
export function discreteCode(section: DiscreteSection, value: number): number {
  const code = section.values.indexOf(value);
  if (code < 0) {
    const what = section.kind === 'steps' ? 'steps' : 'guidance scale';
    throw new KeyError(section.kind, -1, `${what} ${value} is not one of ${section.values.join(', ')}`);
  }
  return code;
}

export function checkedArray(section: ArraySection, values: ArrayLike<number>): Float32Array {
  if (values.length !== section.size) {
    throw new KeyError(
      'shape',
      values.length,
      `${section.name} needs ${section.size} values (shape ${section.shape.join('×')}), got ${values.length}`,
    );
  }
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** Fills a section's constants into a decoded array. */
export function fillConstants(section: ArraySection, out: Float32Array): void {
  for (const [index, value] of section.constants) out[index] = value;
}

/**
 * Codes of a section's stored values, in stored order (into `codes` when given, which may be longer); a value the
 * coding rejects becomes a `KeyError`.
 */
export function encodeSection(
  section: ArraySection,
  values: Float32Array,
  codes = new Uint32Array(section.stored.length),
): Uint32Array {
  const { stored, coding, widened } = section;
  let i = 0;
  try {
    for (; i < widened.count; i++) codes[i] = widened.coding.encode(values[stored[i]], stored[i]);
    if (coding instanceof Minifloat) {
      // Minifloats round on the float32 bit pattern: integer work only, the hot loop of an sd-lob key.
      const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
      const failed = coding.encodeBitsInto(bits, stored, i, codes);
      if (failed >= 0) {
        i = failed;
        coding.encode(values[stored[i]]); // throws the RangeError that names the problem
      }
      i = stored.length;
    } else {
      for (; i < stored.length; i++) codes[i] = coding.encode(values[stored[i]], stored[i]);
    }
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const flat = stored[i];
    throw new KeyError('value', flat, `${section.name}[${flat}] = ${values[flat]}: ${err.message}`);
  }
  return codes;
}

/** Decodes stored-order codes into a full section array (constants included). */
export function decodeSection(section: ArraySection, codes: Uint32Array): Float32Array {
  const { stored, coding, widened } = section;
  const out = new Float32Array(section.size);
  let i = 0;
  for (; i < widened.count; i++) out[stored[i]] = widened.coding.decode(codes[i], stored[i]);
  for (; i < stored.length; i++) out[stored[i]] = coding.decode(codes[i], stored[i]);
  fillConstants(section, out);
  return out;
}

/** The values a key stores for these: each stored value at its nearest code's value, constants at theirs. */
export function quantiseSection(section: ArraySection, values: ArrayLike<number>): Float32Array {
  return decodeSection(section, encodeSection(section, checkedArray(section, values)));
}

/** Code width of stored value i. */
export function widthOf(section: ArraySection, i: number): number {
  return i < section.widened.count ? section.widened.coding.bits : section.coding.bits;
}
