import { BASE64_CODES, BASE64URL_CODES, digitsToText, textToDigits } from './alphabet.ts';
import { KeyError } from './errors.ts';
import { prefixedLayout, STRIDES, type Stride } from './layout.ts';
import { digitTable, type ParsedKey } from './parse.ts';
import type { Profile } from './profile.ts';

// The library's order: a key's payload read as one base-64 number (A = 0 … last digit, last character least
// significant), modulo 64^chars so both ends wrap around. Offsets work digit by digit, so ±1 on a 189,436-character
// key touches a few characters instead of converting the whole key to a big integer.

/** Index bit where a stride's unit sits, or a `KeyError` when the profile has no such stride. */
export function strideBit(profile: Profile, stride: Stride): number {
  if (!STRIDES.includes(stride))
    throw new KeyError('stride', -1, `unknown stride "${stride}" (strides: ${STRIDES.join(', ')})`);
  const bit = profile.text === 'bare-base64' ? bareStrides(profile)[stride] : prefixedLayout(profile).strides[stride];
  if (bit === undefined) {
    throw new KeyError(
      'stride',
      -1,
      `profile ${profile.id} has no "${stride}" stride (it has: ${availableStrides(profile).join(', ')})`,
    );
  }
  return bit;
}

/** The strides a profile offers, finest first. */
export function availableStrides(profile: Profile): Stride[] {
  const strides = profile.text === 'bare-base64' ? bareStrides(profile) : prefixedLayout(profile).strides;
  return STRIDES.filter((s) => strides[s] !== undefined);
}

/**
 * The seed's order (its own next/prev) is ours: page = 1. When the latent is the stream's last section and ends on a
 * character boundary (sd-lob: the last 41,600 characters), `book` steps just past it: the latent is kept and the
 * embedding's last value changes.
 */
function bareStrides(profile: Profile): Partial<Record<Stride, number>> {
  const last = profile.sections[profile.sections.length - 1];
  const latentBits = profile.latent.stored.length * profile.latent.coding.bits;
  return last === profile.latent && latentBits % 24 === 0 && latentBits < profile.bits
    ? { page: 0, book: latentBits }
    : { page: 0 };
}

function codesOf(profile: Profile): Uint8Array {
  return profile.text === 'bare-base64' ? BASE64_CODES : BASE64URL_CODES;
}

/** Base-64 digits of a non-negative bigint, least significant first. */
function bigintDigits(value: bigint): Uint8Array {
  let hex = value.toString(16);
  hex = '0'.repeat((3 - (hex.length % 3)) % 3) + hex;
  const groups = hex.length / 3;
  const digits = new Uint8Array(groups * 2);
  for (let g = 0; g < groups; g++) {
    const v = Number.parseInt(hex.slice(hex.length - 3 * (g + 1), hex.length - 3 * g), 16);
    digits[2 * g] = v & 63;
    digits[2 * g + 1] = v >> 6;
  }
  return digits;
}

/** The payload as a bigint (for distances). */
function payloadValue(parsed: ParsedKey): bigint {
  const digits = textToDigits(parsed.payload, digitTable(parsed.profile));
  let hex = '';
  const chunks: string[] = [];
  // Two digits are twelve bits, three hex characters; a leading zero digit evens out odd lengths.
  const padded = digits.length % 2 === 0 ? digits : Uint8Array.from([0, ...digits]);
  for (let i = 0; i < padded.length; i += 2)
    chunks.push(((padded[i] << 6) | padded[i + 1]).toString(16).padStart(3, '0'));
  hex = chunks.join('');
  return BigInt(`0x${hex || '0'}`);
}

/** The key n units of `stride` after this one (n may be negative or larger than the library; it wraps). */
export function offsetKey(parsed: ParsedKey, n: bigint | number, stride: Stride = 'page'): string {
  const { profile } = parsed;
  const bit = strideBit(profile, stride);
  const steps = BigInt(n);
  if (steps === 0n) return parsed.text;
  const { payload } = parsed;
  const table = digitTable(profile);
  const size = 1n << BigInt(profile.bits);
  const magnitude = (steps < 0n ? -steps : steps) % size;
  const addend = bigintDigits(magnitude << BigInt(bit % 6));
  const sign = steps < 0n ? -1 : 1;
  // Only the characters from the stride's digit leftwards to where the carry stops change; the rest is sliced.
  const end = payload.length - Math.floor(bit / 6);
  const changed: number[] = []; // new digits, rightmost first
  let j = end - 1;
  let carry = 0;
  for (let k = 0; j >= 0 && (k < addend.length || carry !== 0); k++, j--) {
    const v = table[payload.charCodeAt(j)] + sign * ((k < addend.length ? addend[k] : 0) + carry);
    carry = v >= 64 || v < 0 ? 1 : 0;
    changed.push(v >= 64 ? v - 64 : v < 0 ? v + 64 : v);
  }
  // A carry (or borrow) out of the first character is dropped: that is the wrap-around at the library's ends.
  const middle = digitsToText(Uint8Array.from(changed.reverse()), codesOf(profile));
  return profile.prefix + payload.slice(0, j + 1) + middle + payload.slice(end);
}

export function nextKey(parsed: ParsedKey, stride: Stride = 'page'): string {
  return offsetKey(parsed, 1n, stride);
}

export function prevKey(parsed: ParsedKey, stride: Stride = 'page'): string {
  return offsetKey(parsed, -1n, stride);
}

/** How many pages after `a` key `b` is, in [0, library size): `offsetKey(a, distance(a, b))` is `b`. */
export function distance(a: ParsedKey, b: ParsedKey): bigint {
  if (a.profile !== b.profile) {
    throw new KeyError(
      'profile',
      0,
      `keys of different profiles (${a.profile.id}-${a.profile.version}, ${b.profile.id}-${b.profile.version}) have no distance`,
    );
  }
  const size = 1n << BigInt(a.profile.bits);
  return (((payloadValue(b) - payloadValue(a)) % size) + size) % size;
}
