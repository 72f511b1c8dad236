import { BASE64_CODES, BASE64URL_CODES, digitsToText } from './alphabet.ts';
import type { Profile } from './profile.ts';

// Every payload string is a key, so a uniform key is a string of uniform base-64 digits.

const CRYPTO_CHUNK = 65536; // getRandomValues refuses more bytes per call

function cryptoDigits(n: number): Uint8Array {
  const digits = new Uint8Array(n);
  for (let i = 0; i < n; i += CRYPTO_CHUNK)
    globalThis.crypto.getRandomValues(digits.subarray(i, Math.min(n, i + CRYPTO_CHUNK)));
  for (let i = 0; i < n; i++) digits[i] &= 63; // 256 is a multiple of 64: still uniform
  return digits;
}

/** xoshiro128** seeded through splitmix32 from every 32-bit word of the seed: small, fast, reproducible. */
function seededDigits(n: number, seed: bigint): Uint8Array {
  let sm = 0x9e3779b9;
  let rest = seed < 0n ? -seed * 2n + 1n : seed * 2n; // fold the sign in so -1 and 1 differ
  do {
    sm = (sm ^ Number(rest & 0xffffffffn)) >>> 0;
    sm = splitmix(sm).state;
    rest >>= 32n;
  } while (rest > 0n);
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const r = splitmix(sm);
    sm = r.state;
    s[i] = r.value;
  }
  const digits = new Uint8Array(n);
  let word = 0;
  let left = 0;
  for (let i = 0; i < n; i++) {
    if (left === 0) {
      word = xoshiro(s);
      left = 5; // five 6-bit digits per 32-bit word
    }
    digits[i] = word & 63;
    word >>>= 6;
    left--;
  }
  return digits;
}

function splitmix(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return { state: next, value: (z ^ (z >>> 16)) >>> 0 };
}

function xoshiro(s: Uint32Array): number {
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A uniformly random key of the profile: from the platform's cryptographic RNG, or reproducibly from `seed`. */
export function randomKey(profile: Profile, seed?: number | bigint): string {
  const digits = seed === undefined ? cryptoDigits(profile.chars) : seededDigits(profile.chars, BigInt(seed));
  return profile.prefix + digitsToText(digits, profile.text === 'bare-base64' ? BASE64_CODES : BASE64URL_CODES);
}
