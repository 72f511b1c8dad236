import { decodeBare, encodeBare } from './codec-bare.ts';
import { decodePrefixed, encodePrefixed } from './codec-prefixed.ts';
import type { ParsedKey } from './parse.ts';
import type { Profile } from './profile.ts';
import type { DecodedKey, KeyInput } from './values.ts';

/** The step count and arrays a parsed key stands for. */
export function decodeKey(parsed: ParsedKey): DecodedKey {
  const { profile, payload, binary } = parsed;
  const values =
    profile.text === 'bare-base64' ? decodeBare(profile, payload, binary) : decodePrefixed(profile, payload);
  return { profile, ...values };
}

/** The key text of the given values: each value becomes the code nearest to it (clamped at the coding's ends). */
export function encodeKey(profile: Profile, input: KeyInput): string {
  return profile.text === 'bare-base64' ? encodeBare(profile, input) : encodePrefixed(profile, input);
}
