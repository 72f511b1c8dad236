import { BASE64_CODES } from './alphabet.ts';
import { Minifloat } from './minifloat.ts';
import type { ArraySection, Profile } from './profile.ts';
import {
  checkedArray,
  checkedGuidance,
  checkedNegative,
  discreteCode,
  encodeSection,
  fillConstants,
  type KeyInput,
  type KeyValues,
  widthOf,
} from './values.ts';

// The seed project's text form: standard base64 of a byte string; the payload is one bit stream of the sections in
// profile order, every field least significant bit first, bit i in byte i >> 3 at position i & 7. Fields are at most
// 24 bits (profile validation), so a 32-bit accumulator always has room for the next byte.

const ascii = new TextDecoder('latin1');

/**
 * Two base64 characters for every 12-bit value, as one 16-bit store into a Uint16Array view of the text bytes (built
 * through a byte view, so it is right for the platform's endianness): half the stores and lookups of a 6-bit table.
 */
const PAIRS = (() => {
  const bytes = new Uint8Array(2 * 4096);
  for (let v = 0; v < 4096; v++) {
    bytes[2 * v] = BASE64_CODES[v >> 6];
    bytes[2 * v + 1] = BASE64_CODES[v & 63];
  }
  return new Uint16Array(bytes.buffer);
})();

// Encoding reuses its buffers between calls (they are fully overwritten each time): allocating and collecting ~0.6 MB
// per sd-lob key cost as much as the encoding itself.
let scratchBytes = new Uint8Array(0);
let scratchChars = new Uint16Array(0);
let scratchCodes = new Uint32Array(0);

function bytesToBase64(bytes: Uint8Array, length: number): string {
  if (scratchChars.length < (length / 3) * 2) scratchChars = new Uint16Array((length / 3) * 2);
  const pairs = scratchChars;
  for (let i = 0, o = 0; i < length; i += 3, o += 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    pairs[o] = PAIRS[n >>> 12];
    pairs[o + 1] = PAIRS[n & 4095];
  }
  return ascii.decode(new Uint8Array(pairs.buffer, 0, (length / 3) * 4));
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
function writeAll(writer: BitWriter, codes: Uint32Array, from: number, to: number, width: number): void {
  const { bytes } = writer;
  let { acc, count, pos } = writer;
  for (let i = from; i < to; i++) {
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
    if (section.kind === 'steps' || section.kind === 'guidance')
      result[section.kind] = section.values[reader.read(section.bits)];
    else result[section.kind] = decodeArray(section, reader);
  }
  return result as KeyValues;
}

export function encodeBare(profile: Profile, input: KeyInput): string {
  const length = profile.bits / 8;
  if (scratchBytes.length < length) scratchBytes = new Uint8Array(length);
  const writer = new BitWriter(scratchBytes);
  const negative = checkedNegative(profile, input);
  const guidance = checkedGuidance(profile, input);
  for (const section of profile.sections) {
    if (section.kind === 'steps') {
      writer.write(discreteCode(section, input.steps), section.bits);
    } else if (section.kind === 'guidance') {
      writer.write(guidance as number, section.bits);
    } else {
      if (scratchCodes.length < section.stored.length) scratchCodes = new Uint32Array(section.stored.length);
      const codes = encodeSection(
        section,
        section.kind === 'negative' ? (negative as Float32Array) : checkedArray(section, input[section.kind]),
        scratchCodes,
      );
      const count = section.stored.length;
      const wide = section.widened.count;
      for (let i = 0; i < wide; i++) writer.write(codes[i], widthOf(section, i));
      if (section.coding.bits <= 16) writeAll(writer, codes, wide, count, section.coding.bits);
      else for (let i = wide; i < count; i++) writer.write(codes[i], section.coding.bits);
    }
  }
  return bytesToBase64(scratchBytes, length);
}
