import { BASE64_CODES } from './alphabet.ts';
import { Minifloat } from './minifloat.ts';
import type { ArraySection, Profile } from './profile.ts';
import {
  checkedArray,
  encodeSection,
  fillConstants,
  type KeyInput,
  type KeyValues,
  stepsCode,
  widthOf,
} from './values.ts';

// The seed project's text form: standard base64 of a byte string; the payload is one bit stream of the sections in
// profile order, every field least significant bit first, bit i in byte i >> 3 at position i & 7. Fields are at most
// 24 bits (profile validation), so a 32-bit accumulator always has room for the next byte.

const ascii = new TextDecoder('latin1');

function bytesToBase64(bytes: Uint8Array): string {
  const chars = new Uint8Array((bytes.length / 3) * 4);
  for (let i = 0, o = 0; i < bytes.length; i += 3, o += 4) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    chars[o] = BASE64_CODES[n >>> 18];
    chars[o + 1] = BASE64_CODES[(n >>> 12) & 63];
    chars[o + 2] = BASE64_CODES[(n >>> 6) & 63];
    chars[o + 3] = BASE64_CODES[n & 63];
  }
  return ascii.decode(chars);
}

/** LSB-first bit reader over a binary string (atob's output); its state is public so hot loops can keep it in locals. */
class BitReader {
  acc = 0;
  count = 0;
  pos = 0;
  constructor(readonly bytes: string) {}
  read(width: number): number {
    while (this.count < width) {
      this.acc = (this.acc | (this.bytes.charCodeAt(this.pos++) << this.count)) >>> 0;
      this.count += 8;
    }
    const value = this.acc & ((1 << width) - 1);
    this.acc >>>= width;
    this.count -= width;
    return value;
  }
}

class BitWriter {
  acc = 0;
  count = 0;
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  write(value: number, width: number): void {
    this.acc = (this.acc | (value << this.count)) >>> 0;
    this.count += width;
    while (this.count >= 8) {
      this.bytes[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.count -= 8;
    }
  }
}

/**
 * Reads the fields [from, stored.length) of one width ≤ 16 through a decode table: the inner loop of an sd-lob key.
 * It refills two bytes at a time (count < 16 before, ≤ 31 after), so each field costs one predictable branch.
 * Reading past the end yields NaN, which shifts in as zero bits that are never used.
 */
function readThroughTable(
  reader: BitReader,
  width: number,
  table: Float32Array,
  stored: Int32Array,
  from: number,
  out: Float32Array,
): void {
  const { bytes } = reader;
  let { acc, count, pos } = reader;
  const mask = (1 << width) - 1;
  for (let i = from; i < stored.length; i++) {
    if (count < width) {
      acc = (acc | ((bytes.charCodeAt(pos) | (bytes.charCodeAt(pos + 1) << 8)) << count)) >>> 0;
      pos += 2;
      count += 16;
    }
    out[stored[i]] = table[acc & mask];
    acc >>>= width;
    count -= width;
  }
  reader.acc = acc;
  reader.count = count;
  reader.pos = pos;
}

/** Writes fields of one width ≤ 16, two bytes at a time, then leaves fewer than 8 pending bits as `write` expects. */
function writeAll(writer: BitWriter, codes: Uint32Array, from: number, width: number): void {
  const { bytes } = writer;
  let { acc, count, pos } = writer;
  for (let i = from; i < codes.length; i++) {
    acc = (acc | (codes[i] << count)) >>> 0;
    count += width;
    if (count >= 16) {
      bytes[pos] = acc & 0xff;
      bytes[pos + 1] = (acc >>> 8) & 0xff;
      pos += 2;
      acc >>>= 16;
      count -= 16;
    }
  }
  while (count >= 8) {
    bytes[pos++] = acc & 0xff;
    acc >>>= 8;
    count -= 8;
  }
  writer.acc = acc;
  writer.count = count;
  writer.pos = pos;
}

function decodeArray(section: ArraySection, reader: BitReader): Float32Array {
  const out = new Float32Array(section.size);
  const { stored, coding, widened } = section;
  let i = 0;
  for (; i < widened.count; i++) out[stored[i]] = widened.coding.decode(reader.read(widened.coding.bits), stored[i]);
  const width = coding.bits;
  // Minifloat codes decode through a lookup table: the hot loop of an sd-lob key (76k values).
  const table = coding instanceof Minifloat ? coding.decodeTable() : null;
  if (table !== null) {
    readThroughTable(reader, width, table, stored, i, out);
  } else {
    for (; i < stored.length; i++) out[stored[i]] = coding.decode(reader.read(width), stored[i]);
  }
  fillConstants(section, out);
  return out;
}

/** Decodes a bare key; `binary` is the payload's bytes when parsing already decoded them. */
export function decodeBare(profile: Profile, payload: string, binary = atob(payload)): KeyValues {
  const reader = new BitReader(binary);
  const result: Partial<KeyValues> = {};
  for (const section of profile.sections) {
    if (section.kind === 'steps') result.steps = section.values[reader.read(section.bits)];
    else result[section.kind] = decodeArray(section, reader);
  }
  return result as KeyValues;
}

export function encodeBare(profile: Profile, input: KeyInput): string {
  const writer = new BitWriter(new Uint8Array(profile.bits / 8));
  for (const section of profile.sections) {
    if (section.kind === 'steps') {
      writer.write(stepsCode(section, input.steps), section.bits);
    } else {
      const codes = encodeSection(section, checkedArray(section, input[section.kind]));
      const wide = section.widened.count;
      for (let i = 0; i < wide; i++) writer.write(codes[i], widthOf(section, i));
      if (section.coding.bits <= 16) writeAll(writer, codes, wide, section.coding.bits);
      else for (let i = wide; i < codes.length; i++) writer.write(codes[i], section.coding.bits);
    }
  }
  return bytesToBase64(writer.bytes);
}
