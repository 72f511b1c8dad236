import { Gen5Error } from './errors.ts';

export type ChunkType = 'LATN' | 'DATA' | 'ENVC';
export type LatentDtype = 'float16' | 'float32';

/** A record of META's `gen5_metadata.chunks[]`, the 9 fields gen5 0.1.0 requires, in its key order. */
export interface ChunkRecord {
  index: number;
  type: ChunkType;
  flags: string;
  offset: number;
  compressed_size: number;
  /** Payload length, without the 12-byte inner header. */
  uncompressed_size: number;
  /** SHA-256 hex of the raw payload. */
  hash: string;
  extra: { shape?: number[]; dtype?: LatentDtype; key?: string; [k: string]: unknown };
  compressed: boolean;
}

export const INNER_HEADER_SIZE = 12;
export const CHUNK_TYPES: readonly string[] = ['LATN', 'DATA', 'ENVC'];
export const ITEM_SIZE: Record<LatentDtype, number> = { float16: 2, float32: 4 };

/** The 4 flag bytes of the inner record: `F16\0` / `F32\0` for latents, ASCII `0000` for everything else. */
export function innerFlags(type: ChunkType | 'META', dtype?: LatentDtype): string {
  if (type !== 'LATN') return '0000';
  return dtype === 'float16' ? 'F16\0' : 'F32\0';
}

/** The chunk table's flags: the inner flags with NULs stripped, as 0.1.0 writes them. */
export function recordFlags(type: ChunkType, dtype?: LatentDtype): string {
  return innerFlags(type, dtype).replace(/\0+$/, '');
}

/** The inner record's header: `type (4 ASCII) | flags (4 ASCII) | payload_len (u32 LE)`; the payload follows. */
export function innerHeader(type: ChunkType | 'META', flags: string, payloadLength: number): Uint8Array {
  const out = new Uint8Array(INNER_HEADER_SIZE);
  for (let i = 0; i < 4; i++) {
    out[i] = type.charCodeAt(i);
    out[4 + i] = flags.charCodeAt(i);
  }
  new DataView(out.buffer).setUint32(8, payloadLength, true);
  return out;
}

/** Header + payload as one record. */
export function packInner(type: ChunkType | 'META', flags: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(INNER_HEADER_SIZE + payload.length);
  out.set(innerHeader(type, flags, payload.length), 0);
  out.set(payload, INNER_HEADER_SIZE);
  return out;
}

/**
 * Checks an inner record against what the chunk table says (type, flags, length) and returns its payload.
 * 0.1.0 ignores the inner header; a disagreement here means the table or the chunk was tampered with.
 */
export function unpackInner(record: Uint8Array, type: ChunkType | 'META', flags: string, what: string): Uint8Array {
  if (record.length < INNER_HEADER_SIZE) {
    throw new Gen5Error('TRUNCATED', `${what}: ${record.length} bytes, shorter than the 12-byte chunk header`);
  }
  const seenType = ascii(record.subarray(0, 4));
  const seenFlags = ascii(record.subarray(4, 8));
  if (seenType !== type)
    throw new Gen5Error(
      'CHUNK_HEADER',
      `${what}: chunk header says type ${JSON.stringify(seenType)}, expected ${type}`,
    );
  if (seenFlags !== flags) {
    throw new Gen5Error(
      'CHUNK_HEADER',
      `${what}: chunk header flags ${JSON.stringify(seenFlags)}, expected ${JSON.stringify(flags)}`,
    );
  }
  const len = new DataView(record.buffer, record.byteOffset, INNER_HEADER_SIZE).getUint32(8, true);
  if (len !== record.length - INNER_HEADER_SIZE) {
    throw new Gen5Error(
      'CHUNK_HEADER',
      `${what}: chunk header declares ${len} payload bytes, the chunk holds ${record.length - INNER_HEADER_SIZE}`,
    );
  }
  return record.subarray(INNER_HEADER_SIZE);
}

function ascii(b: Uint8Array): string {
  return String.fromCharCode(...b);
}
