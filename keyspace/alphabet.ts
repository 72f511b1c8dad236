/** Standard base64 (the seed project's keys) and base64url (ours); digit value = position in the string. */
export const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
export const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function lookup(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

export const BASE64_DIGITS = lookup(BASE64);
export const BASE64URL_DIGITS = lookup(BASE64URL);

/** Char codes of each alphabet, for building key text with a TextDecoder instead of string concatenation. */
export const BASE64_CODES = Uint8Array.from(BASE64, (c) => c.charCodeAt(0));
export const BASE64URL_CODES = Uint8Array.from(BASE64URL, (c) => c.charCodeAt(0));

/** Index of the first character outside the alphabet, or -1. */
export function firstInvalid(text: string, table: Int8Array): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || table[c] < 0) return i;
  }
  return -1;
}

const ascii = new TextDecoder('latin1');

/** Text of a digit array (digits 0..63) in the given alphabet. */
export function digitsToText(digits: Uint8Array, codes: Uint8Array): string {
  const chars = new Uint8Array(digits.length);
  for (let i = 0; i < digits.length; i++) chars[i] = codes[digits[i]];
  return ascii.decode(chars);
}

/** Digit values of a text already checked with `firstInvalid`. */
export function textToDigits(text: string, table: Int8Array): Uint8Array {
  const digits = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) digits[i] = table[text.charCodeAt(i)];
  return digits;
}
