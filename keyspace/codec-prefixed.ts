import { BASE64URL_CODES, BASE64URL_DIGITS, digitsToText } from './alphabet.ts';
import { bitOffset, prefixedLayout, tieCodes, untieCodes } from './layout.ts';
import type { ArraySection, Profile } from './profile.ts';
import {
  checkedArray,
  checkedGuidance,
  checkedNegative,
  decodeSection,
  discreteCode,
  encodeSection,
  type KeyInput,
  type KeyValues,
  widthOf,
} from './values.ts';

// Our text form: the payload is the order index written in base64url digits, last character least significant.
// Decoding spreads the index into bits and gathers each code's bits from the positions the layout assigns.

function payloadToBits(payload: string): Uint8Array {
  const n = payload.length;
  const bits = new Uint8Array(n * 6);
  for (let i = 0; i < n; i++) {
    const d = BASE64URL_DIGITS[payload.charCodeAt(i)];
    const base = (n - 1 - i) * 6;
    for (let t = 0; t < 6; t++) bits[base + t] = (d >> t) & 1;
  }
  return bits;
}

function bitsToPayload(bits: Uint8Array): string {
  const n = bits.length / 6;
  const digits = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const base = (n - 1 - i) * 6;
    let d = 0;
    for (let t = 0; t < 6; t++) d |= bits[base + t] << t;
    digits[i] = d;
  }
  return digitsToText(digits, BASE64URL_CODES);
}

/** The codes of a section's values: each code's bits gathered from the index, then tied members untied. */
function gather(section: ArraySection, positions: Int32Array, ties: Int32Array, bits: Uint8Array): Uint32Array {
  const codes = new Uint32Array(section.stored.length);
  for (let i = 0; i < codes.length; i++) {
    const start = bitOffset(section, i);
    const width = widthOf(section, i);
    let code = 0;
    for (let b = 0; b < width; b++) code |= bits[positions[start + b]] << b;
    codes[i] = code;
  }
  untieCodes(codes, ties);
  return codes;
}

/** The inverse of gather (ties `codes` in place, then spreads its bits). */
function scatter(
  section: ArraySection,
  positions: Int32Array,
  ties: Int32Array,
  codes: Uint32Array,
  bits: Uint8Array,
): void {
  tieCodes(codes, ties);
  for (let i = 0; i < codes.length; i++) {
    const start = bitOffset(section, i);
    const width = widthOf(section, i);
    for (let b = 0; b < width; b++) bits[positions[start + b]] = (codes[i] >>> b) & 1;
  }
}

/** A step or guidance code: its bits gathered from the index. */
function gatherCode(positions: Int32Array, bits: Uint8Array): number {
  let code = 0;
  for (let b = 0; b < positions.length; b++) code |= bits[positions[b]] << b;
  return code;
}

function scatterCode(positions: Int32Array, code: number, bits: Uint8Array): void {
  for (let b = 0; b < positions.length; b++) bits[positions[b]] = (code >>> b) & 1;
}

export function decodePrefixed(profile: Profile, payload: string): KeyValues {
  const { positions, ties } = prefixedLayout(profile);
  const bits = payloadToBits(payload);
  const values: KeyValues = {
    steps: profile.steps.values[gatherCode(positions.steps, bits)],
    embedding: decodeSection(profile.embedding, gather(profile.embedding, positions.embedding, ties.embedding, bits)),
    latent: decodeSection(profile.latent, gather(profile.latent, positions.latent, ties.latent, bits)),
  };
  const { negative } = profile;
  if (negative) values.negative = decodeSection(negative, gather(negative, positions.negative, ties.negative, bits));
  const { guidance } = profile;
  if (guidance) values.guidance = guidance.values[gatherCode(positions.guidance, bits)];
  return values;
}

export function encodePrefixed(profile: Profile, input: KeyInput): string {
  const { positions, ties } = prefixedLayout(profile);
  const stepCode = discreteCode(profile.steps, input.steps);
  const guidanceCode = checkedGuidance(profile, input);
  const embedding = encodeSection(profile.embedding, checkedArray(profile.embedding, input.embedding));
  const latent = encodeSection(profile.latent, checkedArray(profile.latent, input.latent));
  const negativeValues = checkedNegative(profile, input);
  const bits = new Uint8Array(profile.bits);
  scatterCode(positions.steps, stepCode, bits);
  if (guidanceCode !== null) scatterCode(positions.guidance, guidanceCode, bits);
  scatter(profile.embedding, positions.embedding, ties.embedding, embedding, bits);
  scatter(profile.latent, positions.latent, ties.latent, latent, bits);
  if (profile.negative && negativeValues) {
    const codes = encodeSection(profile.negative, negativeValues);
    scatter(profile.negative, positions.negative, ties.negative, codes, bits);
  }
  return profile.prefix + bitsToPayload(bits);
}
